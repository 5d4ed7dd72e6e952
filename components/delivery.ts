import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { LOADTESTER_SERVICE_ACCOUNT, NAMESPACES, PROMETHEUS_URL, RELEASES } from "../lib/names";
import { CHARTS, SYSTEM_POOL, chartSource } from "./charts";
import { PRIORITY_CLASSES } from "./priorityClasses";

/**
 * Flagger chart values. Flagger's replica count lives under leaderElection (there is no top-level replicaCount);
 * Slack is configured per canary through the AlertProvider, so no webhook appears here.
 */
export function flaggerValues(replicas: number): Record<string, unknown> {
  return {
    meshProvider: "istio",
    metricsServer: PROMETHEUS_URL,
    leaderElection: { enabled: replicas > 1, replicaCount: replicas },
    podDisruptionBudget: { enabled: replicas > 1, minAvailable: 1 },
    podPriorityClassName: PRIORITY_CLASSES.platform.name,
    nodeSelector: SYSTEM_POOL.nodeSelector,
    tolerations: SYSTEM_POOL.tolerations,
    resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "1", memory: "512Mi" } },
  };
}

/** Secret (in the load tester's namespace) holding the OAuth client the webhooks authenticate as. */
export const LOADTEST_CLIENT_SECRET = "aiwp-loadtest-client";

/**
 * Shell command that prints a bearer token for the estate's API: the OAuth 2.0 client-credentials grant
 * against the identity provider's token endpoint (Microsoft identity platform v2.0, scope
 * `<audience>/.default`), with the client from LOADTEST_CLIENT_SECRET in the load tester's environment.
 * The loadtester image ships curl and jq (Flagger Dockerfile.loadtester).
 */
export const LOADTEST_TOKEN_COMMAND =
  'curl -sf --max-time 10 "$AIWP_TOKEN_URL" --data-urlencode grant_type=client_credentials' +
  ' --data-urlencode "client_id=$AIWP_CLIENT_ID" --data-urlencode "client_secret=$AIWP_CLIENT_SECRET"' +
  ' --data-urlencode "scope=$AIWP_TOKEN_SCOPE" | jq -er .access_token';

/** Where the load tester gets its token: the provider's token endpoint and the API's scope. */
export interface LoadTestClient {
  /** OAuth 2.0 token endpoint (`<issuer minus /v2.0>/oauth2/v2.0/token` for Entra ID). */
  tokenUrl: string;
  /** Scope requested (`<API audience>/.default`). */
  scope: string;
  /** Application (client) id of the load tester's app registration. */
  clientId: string;
  /** Its client secret (Pulumi secret). */
  clientSecret: pulumi.Input<string>;
}

/** The load tester's environment for LOADTEST_TOKEN_COMMAND: endpoint and scope in clear, the client from the Secret. */
export function loadtesterEnv(client: Pick<LoadTestClient, "tokenUrl" | "scope">): Record<string, unknown>[] {
  const fromSecret = (name: string, key: string) => ({
    name,
    valueFrom: { secretKeyRef: { name: LOADTEST_CLIENT_SECRET, key } },
  });
  return [
    { name: "AIWP_TOKEN_URL", value: client.tokenUrl },
    { name: "AIWP_TOKEN_SCOPE", value: client.scope },
    fromSecret("AIWP_CLIENT_ID", "client-id"),
    fromSecret("AIWP_CLIENT_SECRET", "client-secret"),
  ];
}

/** flagger-loadtester values: it runs the canaries' load and acceptance webhooks from inside the mesh. */
export function loadtesterValues(
  client?: Pick<LoadTestClient, "tokenUrl" | "scope">,
): Record<string, unknown> {
  return {
    ...(client ? { env: loadtesterEnv(client) } : {}),
    replicaCount: 1,
    // Services' AuthorizationPolicies name this account as the caller of canary webhooks.
    serviceAccountName: LOADTESTER_SERVICE_ACCOUNT.name,
    // istio-system is not injected; the pod label opts the load tester into the mesh so it can call STRICT mTLS services.
    podLabels: { "sidecar.istio.io/inject": "true" },
    // Without it every canary's webhooks fail and every release rolls back.
    podPriorityClassName: PRIORITY_CLASSES.platform.name,
    cmd: { timeout: "1h" },
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } },
  };
}

export interface DeliveryArgs {
  /** Flagger replicas (leader election when more than one): 2 in prod-like stacks. */
  flaggerReplicas: number;
  /** Kubernetes provider of the cluster. */
  provider: k8s.Provider;
  /** Resources the releases wait for (istiod, the Prometheus stack). */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
  /** The OAuth client the webhooks get their bearer token with. Default: none (smoke paths unauthenticated). */
  loadTestClient?: LoadTestClient;
  /** Whether the hold gate runs in the load tester (it reads Canaries with kubectl: mount the API token). Default false. */
  holdGate?: boolean;
}

/** Flagger (Istio provider, the estate's Prometheus) and flagger-loadtester. */
export class Delivery extends pulumi.ComponentResource {
  /** The Flagger release; Canaries depend on it (it installs the CRDs). */
  public readonly flagger: k8s.helm.v3.Release;
  /** The load tester release. */
  public readonly loadtester: k8s.helm.v3.Release;

  constructor(name: string, args: DeliveryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:delivery:Delivery", name, {}, opts);
    if (!Number.isInteger(args.flaggerReplicas) || args.flaggerReplicas < 1) {
      throw new Error(`Delivery ${name}: flaggerReplicas must be a whole number >= 1`);
    }
    const childOpts = { parent: this, provider: args.provider, dependsOn: args.dependsOn };
    this.flagger = new k8s.helm.v3.Release(
      `${name}-flagger`,
      {
        ...chartSource(CHARTS.flagger),
        name: RELEASES.flagger,
        namespace: NAMESPACES.flagger,
        values: flaggerValues(args.flaggerReplicas),
      },
      childOpts,
    );
    const loadtesterAccount = new k8s.core.v1.ServiceAccount(
      `${name}-loadtester-sa`,
      {
        metadata: { name: LOADTESTER_SERVICE_ACCOUNT.name, namespace: LOADTESTER_SERVICE_ACCOUNT.namespace },
        // The webhooks run hey and curl against the canaries (cmd and bash types); only the hold gate calls the
        // API (kubectl, bound by components/holdGate.ts to get canaries and patch its ConfigMap), so the token
        // is mounted only where holds exist. The sidecar's istio-token is a projected volume of its own.
        automountServiceAccountToken: args.holdGate ?? false,
      },
      childOpts,
    );
    const client = args.loadTestClient;
    const clientSecret = client
      ? new k8s.core.v1.Secret(
          `${name}-loadtest-client`,
          {
            metadata: { name: LOADTEST_CLIENT_SECRET, namespace: NAMESPACES.flagger },
            type: "Opaque",
            stringData: { "client-id": client.clientId, "client-secret": pulumi.secret(client.clientSecret) },
          },
          childOpts,
        )
      : undefined;
    this.loadtester = new k8s.helm.v3.Release(
      `${name}-loadtester`,
      {
        ...chartSource(CHARTS.loadtester),
        name: RELEASES.loadtester,
        namespace: NAMESPACES.flagger,
        values: loadtesterValues(client),
      },
      { ...childOpts, dependsOn: [loadtesterAccount, ...(clientSecret ? [clientSecret] : [])] },
    );
    this.registerOutputs({});
  }
}
