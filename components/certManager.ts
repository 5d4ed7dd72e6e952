import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as authorization from "@pulumi/azure-native/authorization";
import type { Environment } from "../settings";
import { NAMESPACES } from "../lib/names";
import { CHARTS, SYSTEM_POOL, chartSource } from "./charts";
import { PRIORITY_CLASSES } from "./priorityClasses";
import { WorkloadIdentity } from "./workloadIdentity";

/** Secret (in NAMESPACES.ingress) that cert-manager writes and the public Istio Gateway serves. */
export const GATEWAY_TLS_SECRET = "public-gateway-tls";

/** cert-manager's service account; the workload identity federates exactly this subject. */
export const CERT_MANAGER_SERVICE_ACCOUNT = "cert-manager";

/** Built-in role "DNS Zone Contributor": manage records of a zone (the DNS01 TXT record), nothing else. */
export const DNS_ZONE_CONTRIBUTOR = "befefa01-2a29-4197-83a8-272ff33ce314";

const LETS_ENCRYPT = {
  production: "https://acme-v02.api.letsencrypt.org/directory",
  staging: "https://acme-staging-v02.api.letsencrypt.org/directory",
} as const;

/** The ACME endpoint and issuer name of a stack: Let's Encrypt staging in dev (its rate limits are generous). */
export function acmeIssuer(environment: Environment): { name: string; server: string } {
  return environment === "dev"
    ? { name: "letsencrypt-staging", server: LETS_ENCRYPT.staging }
    : { name: "letsencrypt-production", server: LETS_ENCRYPT.production };
}

/** The DNS zone of a hostname when none is configured: the hostname without its first label. */
export function dnsZoneOf(hostname: string, configured?: string): string {
  if (configured) {
    if (hostname !== configured && !hostname.endsWith(`.${configured}`)) {
      throw new Error(`edge.dnsZoneName ${configured} does not contain edge.customDomain ${hostname}`);
    }
    return configured;
  }
  const labels = hostname.split(".");
  if (labels.length < 3)
    throw new Error(`edge.customDomain ${hostname}: set edge.dnsZoneName (cannot derive the zone)`);
  return labels.slice(1).join(".");
}

/** Name of cert-manager's Helm release. */
export const CERT_MANAGER_RELEASE = "cert-manager";

/**
 * Values of the cert-manager chart (v1.19 values.yaml): CRDs installed and kept on uninstall, the workload
 * identity on the controller's service account and pods, and every component on the system pool.
 */
export function certManagerValues(
  environment: Environment,
  clientId: pulumi.Input<string>,
): Record<string, unknown> {
  const useWorkloadIdentity = { "azure.workload.identity/use": "true" };
  const placement = { nodeSelector: SYSTEM_POOL.nodeSelector, tolerations: SYSTEM_POOL.tolerations };
  return {
    crds: { enabled: true, keep: true },
    // The chart reads one class for all its pods (templates/deployment.yaml `.Values.global.priorityClassName`).
    global: { priorityClassName: PRIORITY_CLASSES.platform.name },
    replicaCount: environment === "dev" ? 1 : 2,
    podLabels: useWorkloadIdentity,
    serviceAccount: {
      create: true,
      name: CERT_MANAGER_SERVICE_ACCOUNT,
      labels: useWorkloadIdentity,
      annotations: { "azure.workload.identity/client-id": clientId },
    },
    ...placement,
    webhook: placement,
    cainjector: placement,
    startupapicheck: placement,
  };
}

export interface CertManagerArgs {
  /** Stack environment (selects the ACME server). */
  environment: Environment;
  /** Hostname of the gateway certificate (settings.edge.customDomain). */
  customDomain: string;
  /** Azure DNS zone that holds customDomain. */
  dnsZoneName: string;
  /** Resource group of the DNS zone. */
  dnsZoneResourceGroup: string;
  /** Resource group for the workload identity. */
  identityResourceGroupName: pulumi.Input<string>;
  /** Azure region of the workload identity. */
  location: pulumi.Input<string>;
  /** Tags of the DNS identity (the estate's standard tags). */
  tags: Record<string, string>;
  /** The cluster's OIDC issuer URL. */
  oidcIssuerUrl: pulumi.Input<string>;
  /** Kubernetes provider of the cluster. */
  provider: k8s.Provider;
  /** Resources the release waits for (the namespaces). */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** cert-manager with Azure DNS workload identity, the ACME ClusterIssuer and the gateway's Certificate. */
export class CertManager extends pulumi.ComponentResource {
  /** Name of the ClusterIssuer. */
  public readonly issuerName: string;
  /** Secret holding the gateway certificate. */
  public readonly tlsSecretName: string;
  /** Client id of cert-manager's identity. */
  public readonly identityClientId: pulumi.Output<string>;

  constructor(name: string, args: CertManagerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:platform:CertManager", name, {}, opts);
    const subscriptionId = authorization.getClientConfigOutput({ parent: this }).subscriptionId;
    const zoneId = pulumi.interpolate`/subscriptions/${subscriptionId}/resourceGroups/${args.dnsZoneResourceGroup}/providers/Microsoft.Network/dnszones/${args.dnsZoneName}`;
    const identity = new WorkloadIdentity(
      `${name}-identity`,
      {
        resourceGroupName: args.identityResourceGroupName,
        location: args.location,
        namespace: NAMESPACES.certManager,
        serviceAccount: CERT_MANAGER_SERVICE_ACCOUNT,
        oidcIssuerUrl: args.oidcIssuerUrl,
        roles: [{ scope: zoneId, roleDefinitionId: DNS_ZONE_CONTRIBUTOR, name: "dns-zone" }],
        tags: args.tags,
      },
      { parent: this },
    );
    this.identityClientId = identity.clientId;
    // The chart is installed as a plain Helm release: @pulumi/kubernetes-cert-manager 0.2.0 writes every
    // typed field of its args over `helmOptions.values` (pulumi-go-helmbase v0.2.0 base.go InitDefaults),
    // so values given there (the service account's annotation, the system-pool placement) were lost.
    const release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        ...chartSource(CHARTS.certManager),
        name: CERT_MANAGER_RELEASE,
        namespace: NAMESPACES.certManager,
        values: certManagerValues(args.environment, identity.clientId),
      },
      { parent: this, provider: args.provider, dependsOn: args.dependsOn },
    );

    const issuer = acmeIssuer(args.environment);
    this.issuerName = issuer.name;
    this.tlsSecretName = GATEWAY_TLS_SECRET;
    const crOpts = { parent: this, provider: args.provider, dependsOn: [release] };
    new k8s.apiextensions.CustomResource(
      `${name}-issuer`,
      {
        apiVersion: "cert-manager.io/v1",
        kind: "ClusterIssuer",
        metadata: { name: issuer.name },
        spec: {
          acme: {
            server: issuer.server,
            privateKeySecretRef: { name: `${issuer.name}-account-key` },
            solvers: [
              {
                selector: { dnsZones: [args.dnsZoneName] },
                dns01: {
                  azureDNS: {
                    subscriptionID: subscriptionId,
                    resourceGroupName: args.dnsZoneResourceGroup,
                    hostedZoneName: args.dnsZoneName,
                    environment: "AzurePublicCloud",
                    managedIdentity: { clientID: identity.clientId },
                  },
                },
              },
            ],
          },
        },
      },
      crOpts,
    );
    new k8s.apiextensions.CustomResource(
      `${name}-gateway-certificate`,
      {
        apiVersion: "cert-manager.io/v1",
        kind: "Certificate",
        metadata: { name: GATEWAY_TLS_SECRET, namespace: NAMESPACES.ingress },
        spec: {
          secretName: GATEWAY_TLS_SECRET,
          dnsNames: [args.customDomain],
          issuerRef: { name: issuer.name, kind: "ClusterIssuer", group: "cert-manager.io" },
          privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
          duration: "2160h",
          renewBefore: "720h",
        },
      },
      crOpts,
    );
    this.registerOutputs({
      issuerName: this.issuerName,
      tlsSecretName: this.tlsSecretName,
      identityClientId: this.identityClientId,
    });
  }
}
