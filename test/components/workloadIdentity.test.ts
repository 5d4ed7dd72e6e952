import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import {
  roleDefinitionId,
  ROLES,
  serviceAccountSubject,
  WorkloadIdentity,
} from "../../components/workloadIdentity";
import { PROJECT } from "../../settings";
import { mocks } from "../../tools/mocks";

describe("workload identity", () => {
  it("federates one service account to one identity and grants exactly the listed roles on their scopes", async () => {
    const seen: { type: string; props: Record<string, any> }[] = [];
    await pulumi.runtime.setMocks(mocks, PROJECT, "dev", false);
    await pulumi.runtime.runInPulumiStack(async () => {
      new WorkloadIdentity(
        "velero",
        {
          resourceGroupName: "rg-x",
          location: "eastus",
          namespace: "velero",
          serviceAccount: "velero-server",
          oidcIssuerUrl: "https://issuer.example/",
          tags: { environment: "dev" },
          roles: [
            {
              scope: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st",
              roleDefinitionId: ROLES.storageBlobDataContributor,
              name: "blob",
            },
          ],
        },
        { transformations: [(a) => void seen.push({ type: a.type, props: a.props }) as undefined] },
      );
      return {};
    });
    const fic = seen.find((s) => s.type === "azure-native:managedidentity:FederatedIdentityCredential")!;
    assert.equal(fic.props.subject, "system:serviceaccount:velero:velero-server");
    assert.deepEqual(fic.props.audiences, ["api://AzureADTokenExchange"]);
    assert.equal(fic.props.issuer, "https://issuer.example/");
    const grants = seen.filter((s) => s.type === "azure-native:authorization:RoleAssignment");
    assert.equal(grants.length, 1);
    assert.match(String(grants[0].props.scope), /storageAccounts\/st$/);
  });

  it("resolves a role GUID in the subscription and keeps a full id", () => {
    assert.equal(
      roleDefinitionId("sub", ROLES.acrPull),
      "/subscriptions/sub/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d",
    );
    assert.equal(roleDefinitionId("sub", "/providers/x"), "/providers/x");
    assert.equal(serviceAccountSubject("a", "b"), "system:serviceaccount:a:b");
  });
});
