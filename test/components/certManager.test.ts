import assert from "node:assert/strict";
import { manifest, ofType, rendered } from "../support/estate";
import { NAMESPACES } from "../../lib/names";
import { dnsZoneOf } from "../../components/certManager";

describe("cert-manager", () => {
  it("installs through the cert-manager component with CRDs and workload identity", async () => {
    const cm = ofType(await rendered("prod"), "kubernetes-cert-manager:index:CertManager")[0].inputs as any;
    assert.equal(cm.installCRDs, true);
    assert.equal(cm.helmOptions.namespace, NAMESPACES.certManager);
    assert.equal(cm.podLabels["azure.workload.identity/use"], "true");
    assert.match(
      cm.helmOptions.values.serviceAccount.annotations["azure.workload.identity/client-id"],
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
