import assert from "node:assert/strict";
import { manifest, ofType, rendered } from "../support/estate";
import { NAMESPACES } from "../../lib/names";
import { CERT_MANAGER_RELEASE, dnsZoneOf } from "../../components/certManager";
import { CHARTS } from "../../components/charts";

describe("cert-manager", () => {
  it("installs the pinned cert-manager chart as a Helm release, with CRDs and workload identity", async () => {
    const release = ofType(await rendered("prod"), "kubernetes:helm.sh/v3:Release").find(
      (r) => (r.inputs as any).name === CERT_MANAGER_RELEASE,
    )!.inputs as any;
    assert.equal(release.chart, CHARTS.certManager.chart);
    assert.equal(release.version, CHARTS.certManager.version);
    assert.equal(release.namespace, NAMESPACES.certManager);
    assert.deepEqual(release.values.crds, { enabled: true, keep: true });
    assert.equal(release.values.podLabels["azure.workload.identity/use"], "true");
    assert.match(
      release.values.serviceAccount.annotations["azure.workload.identity/client-id"],
      /^[0-9a-f-]{36}$/,
    );
  });

  it("prod issues from Let's Encrypt production through Azure DNS; dev uses the staging server", async () => {
    const prod = manifest(await rendered("prod"), "ClusterIssuer", "letsencrypt-production").spec.acme;
    assert.equal(prod.server, "https://acme-v02.api.letsencrypt.org/directory");
    assert.equal(prod.solvers[0].dns01.azureDNS.hostedZoneName, "aiwp.example.com");
    assert.ok(prod.solvers[0].dns01.azureDNS.managedIdentity.clientID);
    assert.match(
      manifest(await rendered("dev"), "ClusterIssuer", "letsencrypt-staging").spec.acme.server,
      /acme-staging/,
    );
  });

  it("the gateway certificate covers the custom domain in the ingress namespace", async () => {
    const cert = manifest(
      await rendered("prod"),
      "Certificate",
      "public-gateway-tls",
      NAMESPACES.ingress,
    ).spec;
    assert.deepEqual(cert.dnsNames, ["app.aiwp.example.com"]);
  });

  it("derives the DNS zone and rejects a zone that does not contain the domain", () => {
    assert.equal(dnsZoneOf("app.aiwp.example.com"), "aiwp.example.com");
    assert.throws(() => dnsZoneOf("app.aiwp.example.com", "other.example.com"), /edge.dnsZoneName/);
  });
});
