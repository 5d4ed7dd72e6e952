/**
 * Every Helm chart the estate installs, pinned to an exact version from the chart's own repository.
 * Upgrading a chart is a one-line change here (then `npm test` and `pulumi preview`); nothing else names
 * a chart version.
 */

export interface ChartPin {
  /** Chart name in its repository. */
  chart: string;
  /** Exact chart version (never a range). */
  version: string;
  /** The chart's official repository (an HTTPS Helm repository or an oci:// registry). */
  repo: string;
}

const ISTIO_REPO = "https://istio-release.storage.googleapis.com/charts";
/** Istio releases base, cni, istiod and gateway together: the three must carry the same version. */
const ISTIO_VERSION = "1.29.2";
const FLAGGER_REPO = "https://flagger.app";

export const CHARTS = {
  istioBase: { chart: "base", version: ISTIO_VERSION, repo: ISTIO_REPO },
  istioCni: { chart: "cni", version: ISTIO_VERSION, repo: ISTIO_REPO },
  istiod: { chart: "istiod", version: ISTIO_VERSION, repo: ISTIO_REPO },
  gateway: { chart: "gateway", version: ISTIO_VERSION, repo: ISTIO_REPO },
  prometheusStack: {
    chart: "kube-prometheus-stack",
    version: "88.4.0",
    repo: "https://prometheus-community.github.io/helm-charts",
  },
  flagger: { chart: "flagger", version: "1.44.0", repo: FLAGGER_REPO },
  loadtester: { chart: "loadtester", version: "0.36.0", repo: FLAGGER_REPO },
  certManager: { chart: "cert-manager", version: "v1.19.4", repo: "https://charts.jetstack.io" },
  velero: { chart: "velero", version: "12.1.0", repo: "https://vmware-tanzu.github.io/helm-charts" },
  /**
   * RabbitMQ publishes no Helm chart for its cluster operator; Bitnami's is the chart RabbitMQ pointed to.
   * Its default images are no longer public, so rabbitmq.ts overrides them with the upstream images.
   */
  rabbitmqOperator: {
    chart: "rabbitmq-cluster-operator",
    version: "4.4.34",
    repo: "oci://registry-1.docker.io/bitnamicharts",
  },
  otelCollector: {
    chart: "opentelemetry-collector",
    version: "0.158.2",
    repo: "https://open-telemetry.github.io/opentelemetry-helm-charts",
  },
} as const satisfies Record<string, ChartPin>;

/** Images set explicitly in chart values, pinned here next to the charts they belong to. */
export const IMAGES = {
  /** Velero server; the chart's CRD upgrade job also runs this image, so CRDs follow this version. */
  velero: "velero/velero:v1.18.1",
  /** Azure plugin: v1.14.x is the line built against Velero v1.18.x (v1.13 <-> 1.17, v1.12 <-> 1.16). */
  veleroAzurePlugin: "velero/velero-plugin-for-microsoft-azure:v1.14.2",
  rabbitmqClusterOperator: {
    registry: "docker.io",
    repository: "rabbitmqoperator/cluster-operator",
    tag: "2.16.1",
  },
  rabbitmqCredentialUpdater: {
    registry: "docker.io",
    repository: "rabbitmqoperator/default-user-credential-updater",
    tag: "1.0.8",
  },
  rabbitmq: { registry: "docker.io", repository: "library/rabbitmq", tag: "4.1.3-management" },
  /**
   * Operator images at the versions chart 4.4.34 pairs (its Chart.yaml `images` annotation: cluster operator
   * 2.16.1, whose CRDs it ships, credential updater 1.0.8, topology operator 1.17.4), from upstream.
   */
  rabbitmqTopologyOperator: {
    registry: "docker.io",
    repository: "rabbitmqoperator/messaging-topology-operator",
    tag: "1.17.4",
  },
  /** The chart's appVersion for 0.158.2; the contrib distribution carries the azuremonitor exporter. */
  otelCollector: { repository: "otel/opentelemetry-collector-contrib", tag: "0.153.0" },
} as const;

/** Whether a chart version is exact: a plain semantic version, optionally "v"-prefixed, no range operators. */
export function isExactVersion(version: string): boolean {
  return /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version);
}

/** Scheduling for platform pods on the AKS system pool (tainted CriticalAddonsOnly=true:NoSchedule). */
export const SYSTEM_POOL = {
  nodeSelector: { "kubernetes.azure.com/mode": "system" },
  tolerations: [{ key: "CriticalAddonsOnly", operator: "Exists", effect: "NoSchedule" }],
} as const;

/**
 * The chart, version and repository arguments of a Helm release for a pinned chart. An OCI chart is named by
 * its full reference (Helm does not take an oci:// registry as a repository).
 */
export function chartSource(pin: ChartPin): {
  chart: string;
  version: string;
  repositoryOpts?: { repo: string };
} {
  if (pin.repo.startsWith("oci://")) return { chart: `${pin.repo}/${pin.chart}`, version: pin.version };
  return { chart: pin.chart, version: pin.version, repositoryOpts: { repo: pin.repo } };
}
