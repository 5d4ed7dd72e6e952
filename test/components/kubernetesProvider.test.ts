import * as assert from "node:assert/strict";
import * as yaml from "js-yaml";
import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import { AKS_SERVER_ID, KubernetesProvider, kubeloginKubeconfig } from "../../components/kubernetesProvider";
import { PROJECT } from "../../settings";
import { mockKubeconfig, mocks } from "../../tools/mocks";
import { ofType, rendered, renderWith } from "../support/estate";

type Kubeconfig = { users: { name: string; user: Record<string, any> }[] };

describe("kubernetes provider", () => {
  it("authenticates through kubelogin exec in the stack's login mode, with no static credentials", async () => {
    const run = await rendered("prod");
    const [provider] = ofType(run, "pulumi:providers:kubernetes").filter((p) =>
      p.name.endsWith("-kubernetes-k8s"),
    );
    const raw = provider.inputs.kubeconfig as { value: string } | string;
    const doc = yaml.load(typeof raw === "string" ? raw : raw.value) as Kubeconfig;
    assert.equal(doc.users.length, 1);
    const { user } = doc.users[0];
    assert.deepEqual(Object.keys(user), ["exec"]);
    assert.equal(user.exec.command, "kubelogin");
    assert.deepEqual(user.exec.args, ["get-token", "--login", "azurecli", "--server-id", AKS_SERVER_ID]);
    assert.equal(user.exec.interactiveMode, "Never");
    // The user credentials (clusterUser), never clusterAdmin.
    assert.match(doc.users[0].name, /^clusterUser_/);
  });

  it("keeps the kubeconfig secret", async () => {
    const run = await rendered("prod");
    const [provider] = ofType(run, "pulumi:providers:kubernetes").filter((p) =>
      p.name.endsWith("-kubernetes-k8s"),
    );
    // A secret input is serialized with Pulumi's secret signature rather than as a plain string.
    assert.equal(typeof provider.inputs.kubeconfig, "object");
    assert.ok(Object.keys(provider.inputs.kubeconfig as object).includes("4dabf18193072939515e22adb298388d"));
  });

  it("uses workloadidentity login in CI when configured, and renders YAML to a directory when asked", async () => {
    const run = await renderWith("dev", (c) => {
      c["aiwp-estate:cluster"] = {
        ...c["aiwp-estate:cluster"],
        kubeloginMode: "workloadidentity",
        renderYamlToDirectory: "out/dev-yaml",
      };
    });
    const [provider] = ofType(run, "pulumi:providers:kubernetes").filter((p) =>
      p.name.endsWith("-kubernetes-k8s"),
    );
    assert.equal(provider.inputs.renderYamlToDirectory, "out/dev-yaml");
    const raw = provider.inputs.kubeconfig as { value: string };
    assert.deepEqual((yaml.load(raw.value) as Kubeconfig).users[0].user.exec.args.slice(0, 3), [
      "get-token",
      "--login",
      "workloadidentity",
    ]);
  });

  it("the provider waits for the AKS RBAC Cluster Admin grants (no Kubernetes call before them)", async () => {
    const seen: { type: string; dependsOn?: unknown }[] = [];
    await pulumi.runtime.setMocks(mocks, PROJECT, "prod", false);
    await pulumi.runtime.runInPulumiStack(async () => {
      const grant = new authorization.RoleAssignment("admin-grant", {
        principalId: "p",
        roleDefinitionId: "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
        scope: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks",
      });
      new KubernetesProvider(
        "probe",
        { resourceGroupName: "rg", clusterName: "aks", kubeloginMode: "azurecli", authorizedBy: [grant] },
        {
          transformations: [
            (a) => void seen.push({ type: a.type, dependsOn: a.opts.dependsOn }) as undefined,
          ],
        },
      );
      return {};
    });
    const provider = seen.find((s) => s.type === "pulumi:providers:kubernetes")!;
    const deps = [provider.dependsOn].flat() as pulumi.Resource[];
    assert.equal(deps.length, 1);
    assert.ok(deps[0] instanceof authorization.RoleAssignment);
  });

  it("refuses a kubeconfig with client certificates or tokens (admin credentials)", () => {
    const admin = mockKubeconfig("c", "c.example").replace(
      /users:[\s\S]*$/,
      "users:\n- name: clusterAdmin_c\n  user:\n    client-certificate-data: AAAA\n    client-key-data: BBBB\n    token: t\n",
    );
    assert.throws(() => kubeloginKubeconfig(admin, "azurecli"), /static credentials/);
  });

  it("rewrites the device-code login AKS hands out into a non-interactive one", () => {
    const out = yaml.load(kubeloginKubeconfig(mockKubeconfig("c", "c.example"), "spn")) as Kubeconfig;
    assert.deepEqual(out.users[0].user.exec.args, [
      "get-token",
      "--login",
      "spn",
      "--server-id",
      AKS_SERVER_ID,
    ]);
  });
});
