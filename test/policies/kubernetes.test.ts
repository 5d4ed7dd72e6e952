import { approvedRegistries } from "../../policies/kubernetes/approvedRegistries";
import { healthProbes } from "../../policies/kubernetes/healthProbes";
import { imagePinned } from "../../policies/kubernetes/imagePinned";
import { imagePullPolicy } from "../../policies/kubernetes/imagePullPolicy";
import { minReplicasProd } from "../../policies/kubernetes/minReplicasProd";
import { namespacePsaLabels } from "../../policies/kubernetes/namespacePsaLabels";
import { noPrivilegeEscalation } from "../../policies/kubernetes/noPrivilegeEscalation";
import { noPublicLoadBalancer } from "../../policies/kubernetes/noPublicLoadBalancer";
import { pdbForMultiReplica } from "../../policies/kubernetes/pdbForMultiReplica";
import { priorityClass } from "../../policies/kubernetes/priorityClass";
import { readOnlyRootFilesystem } from "../../policies/kubernetes/readOnlyRootFilesystem";
import { resourceRequestsLimits } from "../../policies/kubernetes/resourceRequestsLimits";
import { runAsNonRoot } from "../../policies/kubernetes/runAsNonRoot";
import { serviceAccountToken } from "../../policies/kubernetes/serviceAccountToken";
import { assertCompliant, assertViolates, mutate, resource } from "./support";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const C = "spec.template.spec.containers.0";
const deployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "api-gateway", namespace: "ai-workflow-prod" },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: "api-gateway" } },
    template: {
      metadata: { labels: { app: "api-gateway" } },
      spec: {
        serviceAccountName: "api-gateway",
        automountServiceAccountToken: false,
        priorityClassName: "aiwp-revenue",
        securityContext: { runAsNonRoot: true, runAsUser: 10001 },
        containers: [
          {
            name: "api-gateway",
            image: "aiwpprodacr.azurecr.io/aiwp/api-gateway:2.4.1",
            imagePullPolicy: "Always",
            resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "4Gi" } },
            readinessProbe: { httpGet: { path: "/health/ready", port: 8080 } },
            livenessProbe: { httpGet: { path: "/health/live", port: 8080 } },
            securityContext: {
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ["ALL"] },
            },
          },
        ],
      },
    },
  },
};
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";
const pdb = {
  metadata: { name: "api-gateway", namespace: "ai-workflow-prod" },
  spec: { minAvailable: 1, selector: { matchLabels: { app: "api-gateway" } } },
};
const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
const hpa = {
  metadata: { name: "api-gateway", namespace: "ai-workflow-prod" },
  spec: {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "api-gateway" },
    minReplicas: 3,
    maxReplicas: 12,
  },
};
const SCALED = "kubernetes:keda.sh/v1alpha1:ScaledObject";
const scaled = {
  metadata: { name: "workflow-service", namespace: "ai-workflow-prod" },
  spec: { scaleTargetRef: { name: "workflow-service" }, minReplicaCount: 5, maxReplicaCount: 20 },
};
const CANARY = "kubernetes:flagger.app/v1beta1:Canary";
const canary = {
  metadata: { name: "api-gateway", namespace: "ai-workflow-prod" },
  spec: { targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "api-gateway" } },
};
const PROD = { environment: "prod" };
const SA = "kubernetes:core/v1:ServiceAccount";
const account = { metadata: { name: "api-gateway", namespace: "ai-workflow-prod" } };
const POD = "spec.template.spec";
const DIGEST = `sha256:${"a".repeat(64)}`;

describe("policies/kubernetes", () => {
  it("k8s-resource-requests-limits: fails when a container has no memory limit", async () => {
    await assertCompliant(resourceRequestsLimits, [resource(DEPLOYMENT, deployment)]);
    await assertViolates(
      resourceRequestsLimits,
      [resource(DEPLOYMENT, mutate(deployment, `${C}.resources.limits.memory`, undefined))],
      /limits\.memory/,
    );
  });

  it("k8s-resource-requests-limits: checks init containers and CronJob pods too", async () => {
    const job = {
      spec: {
        jobTemplate: {
          spec: { template: { spec: { containers: [{ name: "backup", image: "x.azurecr.io/a:1" }] } } },
        },
      },
    };
    await assertViolates(
      resourceRequestsLimits,
      [resource("kubernetes:batch/v1:CronJob", job)],
      /"backup" has no requests\.cpu/,
    );
  });

  it("k8s-health-probes: fails without a readiness probe", async () => {
    await assertCompliant(healthProbes, [resource(DEPLOYMENT, deployment)]);
    await assertViolates(
      healthProbes,
      [resource(DEPLOYMENT, mutate(deployment, `${C}.readinessProbe`, undefined))],
      /readinessProbe/,
    );
  });

  it("k8s-run-as-non-root: fails when a container runs as UID 0 or drops runAsNonRoot", async () => {
    await assertCompliant(runAsNonRoot, [resource(DEPLOYMENT, deployment)]);
    await assertViolates(
      runAsNonRoot,
      [resource(DEPLOYMENT, mutate(deployment, `${C}.securityContext.runAsUser`, 0))],
      /UID 0/,
    );
    await assertViolates(
      runAsNonRoot,
      [resource(DEPLOYMENT, mutate(deployment, "spec.template.spec.securityContext.runAsNonRoot", false))],
      /runAsNonRoot/,
    );
  });

  it("k8s-read-only-root-filesystem: fails with a writable root filesystem", async () => {
    await assertCompliant(readOnlyRootFilesystem, [resource(DEPLOYMENT, deployment)]);
    await assertViolates(
      readOnlyRootFilesystem,
      [resource(DEPLOYMENT, mutate(deployment, `${C}.securityContext.readOnlyRootFilesystem`, false))],
      /readOnlyRootFilesystem/,
    );
  });

  it("k8s-no-privilege-escalation: fails when escalation is allowed or the container is privileged", async () => {
    await assertCompliant(noPrivilegeEscalation, [resource(DEPLOYMENT, deployment)]);
    await assertViolates(
      noPrivilegeEscalation,
      [resource(DEPLOYMENT, mutate(deployment, `${C}.securityContext.allowPrivilegeEscalation`, undefined))],
      /allowPrivilegeEscalation/,
    );
    await assertViolates(
      noPrivilegeEscalation,
      [resource(DEPLOYMENT, mutate(deployment, `${C}.securityContext.privileged`, true))],
      /privileged/,
    );
  });

  it("k8s-image-pinned: a version tag or a digest passes; latest or no tag fails", async () => {
    await assertCompliant(imagePinned, [resource(DEPLOYMENT, deployment)]);
    await assertCompliant(imagePinned, [
      resource(DEPLOYMENT, mutate(deployment, `${C}.image`, `x.azurecr.io/a@sha256:${"a".repeat(64)}`)),
    ]);
    await assertViolates(
      imagePinned,
      [
        resource(
          DEPLOYMENT,
          mutate(deployment, `${C}.image`, "aiwpprodacr.azurecr.io/aiwp/api-gateway:latest"),
        ),
      ],
      /not pinned \(tag latest\)/,
    );
    await assertViolates(
      imagePinned,
      [resource(DEPLOYMENT, mutate(deployment, `${C}.image`, "localhost:5000/api-gateway"))],
      /tag none/,
    );
  });

  it("k8s-image-pinned: with requireDigest a tag alone fails and tag plus digest passes", async () => {
    const digested = mutate(
      deployment,
      `${C}.image`,
      `aiwpprodacr.azurecr.io/aiwp/api-gateway:2.4.1@${DIGEST}`,
    );
    await assertCompliant(imagePinned, [resource(DEPLOYMENT, digested)], { requireDigest: true });
    await assertViolates(imagePinned, [resource(DEPLOYMENT, deployment)], /has no digest; requireDigest/, {
      requireDigest: true,
    });
  });

  it("k8s-image-pull-policy: a tag-only image pulls Always; IfNotPresent or no policy fails; a digest may use IfNotPresent", async () => {
    await assertCompliant(imagePullPolicy, [resource(DEPLOYMENT, deployment)]);
    await assertViolates(
      imagePullPolicy,
      [resource(DEPLOYMENT, mutate(deployment, `${C}.imagePullPolicy`, "IfNotPresent"))],
      /pinned by tag only but pulled IfNotPresent/,
    );
    // Kubernetes defaults a tag other than latest to IfNotPresent.
    await assertViolates(
      imagePullPolicy,
      [resource(DEPLOYMENT, mutate(deployment, `${C}.imagePullPolicy`, undefined))],
      /IfNotPresent \(the default for a tag\)/,
    );
    const digested = mutate(
      deployment,
      `${C}.image`,
      `aiwpprodacr.azurecr.io/aiwp/api-gateway:2.4.1@${DIGEST}`,
    );
    await assertCompliant(imagePullPolicy, [
      resource(DEPLOYMENT, mutate(digested, `${C}.imagePullPolicy`, "IfNotPresent")),
    ]);
  });

  it("k8s-service-account-token: no token passes; a pod that mounts one fails unless its account or the exception list says otherwise", async () => {
    await assertCompliant(serviceAccountToken, [resource(DEPLOYMENT, deployment), resource(SA, account)]);
    const inherits = mutate(deployment, `${POD}.automountServiceAccountToken`, undefined);
    // Neither the pod nor its account opts out: Kubernetes mounts the token.
    await assertViolates(
      serviceAccountToken,
      [resource(DEPLOYMENT, inherits), resource(SA, account)],
      /ai-workflow-prod\/api-gateway mounts the Kubernetes API token of service account api-gateway/,
    );
    await assertCompliant(serviceAccountToken, [
      resource(DEPLOYMENT, inherits),
      resource(SA, mutate(account, "automountServiceAccountToken", false)),
    ]);
    // The pod's own setting wins over its account's.
    await assertViolates(
      serviceAccountToken,
      [
        resource(DEPLOYMENT, mutate(deployment, `${POD}.automountServiceAccountToken`, true)),
        resource(SA, mutate(account, "automountServiceAccountToken", false)),
      ],
      /mounts the Kubernetes API token/,
    );
    // A pod without serviceAccountName runs as "default", which no declared account opts out for.
    await assertViolates(
      serviceAccountToken,
      [
        resource(DEPLOYMENT, mutate(inherits, `${POD}.serviceAccountName`, undefined)),
        resource(SA, mutate(account, "automountServiceAccountToken", false)),
      ],
      /service account default/,
    );
    await assertCompliant(serviceAccountToken, [resource(DEPLOYMENT, inherits)], {
      exemptWorkloads: ["ai-workflow-prod/api-gateway"],
    });
  });

  it("k8s-priority-class: a named class passes; none fails; a system class fails outside kube-system", async () => {
    await assertCompliant(priorityClass, [resource(DEPLOYMENT, deployment)]);
    await assertViolates(
      priorityClass,
      [resource(DEPLOYMENT, mutate(deployment, `${POD}.priorityClassName`, undefined))],
      /sets no priorityClassName/,
    );
    const critical = mutate(deployment, `${POD}.priorityClassName`, "system-node-critical");
    await assertViolates(priorityClass, [resource(DEPLOYMENT, critical)], /system class/);
    await assertCompliant(priorityClass, [
      resource(DEPLOYMENT, mutate(critical, "metadata.namespace", "kube-system")),
    ]);
    // A Job runs to completion: not a long-running workload.
    const job = {
      spec: { template: { spec: { containers: [{ name: "once", image: "x.azurecr.io/a:1" }] } } },
    };
    await assertCompliant(priorityClass, [resource("kubernetes:batch/v1:Job", job)]);
  });

  it("k8s-approved-registries: the estate's ACR passes; Docker Hub fails unless configured", async () => {
    await assertCompliant(approvedRegistries, [resource(DEPLOYMENT, deployment)]);
    const hub = mutate(deployment, `${C}.image`, "nginx:1.27");
    await assertViolates(
      approvedRegistries,
      [resource(DEPLOYMENT, hub)],
      /nginx:1\.27 is not from an approved registry/,
    );
    await assertCompliant(approvedRegistries, [resource(DEPLOYMENT, hub)], {
      approvedRegistries: ["docker.io/library/nginx"],
    });
    // A registry whose name merely contains the ACR suffix is not the ACR.
    await assertViolates(
      approvedRegistries,
      [resource(DEPLOYMENT, mutate(deployment, `${C}.image`, "evil.azurecr.io.example.com/a:1"))],
      /approved/,
    );
  });

  it("k8s-pdb-for-multi-replica: a PDB selecting the pods passes; none fails; a single replica needs none", async () => {
    await assertCompliant(pdbForMultiReplica, [resource(DEPLOYMENT, deployment), resource(PDB, pdb)]);
    await assertViolates(
      pdbForMultiReplica,
      [
        resource(DEPLOYMENT, deployment),
        resource(PDB, mutate(pdb, "spec.selector.matchLabels.app", "other")),
      ],
      /up to 3 replicas/,
    );
    await assertCompliant(pdbForMultiReplica, [resource(DEPLOYMENT, mutate(deployment, "spec.replicas", 1))]);
  });

  it("k8s-pdb-for-multi-replica: an autoscaled Deployment counts its maximum; a canaried one needs its primary's pods covered", async () => {
    const autoscaled = mutate(deployment, "spec.replicas", undefined);
    await assertViolates(
      pdbForMultiReplica,
      [resource(DEPLOYMENT, autoscaled), resource(HPA, hpa)],
      /up to 12 replicas/,
    );
    const primaryPdb = mutate(pdb, "spec.selector.matchLabels.app", "api-gateway-primary");
    await assertCompliant(pdbForMultiReplica, [
      resource(DEPLOYMENT, deployment),
      resource(CANARY, canary),
      resource(PDB, primaryPdb),
    ]);
    await assertViolates(
      pdbForMultiReplica,
      [resource(DEPLOYMENT, deployment), resource(CANARY, canary), resource(PDB, pdb)],
      /primary/,
    );
  });

  it("k8s-min-replicas-prod: two or more passes in prod; one replica or an HPA minimum of one fails; dev is not checked", async () => {
    await assertCompliant(
      minReplicasProd,
      [resource(DEPLOYMENT, deployment), resource(HPA, hpa), resource(SCALED, scaled)],
      PROD,
    );
    await assertViolates(
      minReplicasProd,
      [resource(DEPLOYMENT, mutate(deployment, "spec.replicas", 1))],
      /spec\.replicas is 1/,
      PROD,
    );
    await assertViolates(
      minReplicasProd,
      [resource(HPA, mutate(hpa, "spec.minReplicas", undefined))],
      /minReplicas is 1/,
      PROD,
    );
    await assertViolates(
      minReplicasProd,
      [resource(SCALED, mutate(scaled, "spec.minReplicaCount", 0))],
      /minReplicaCount is 0/,
      PROD,
    );
    await assertCompliant(minReplicasProd, [resource(DEPLOYMENT, mutate(deployment, "spec.replicas", 1))], {
      environment: "dev",
    });
  });

  it("k8s-namespace-psa-labels: restricted passes; no label fails; privileged only for listed namespaces", async () => {
    const ns = {
      metadata: { name: "ai-workflow-prod", labels: { "pod-security.kubernetes.io/enforce": "restricted" } },
    };
    const NS = "kubernetes:core/v1:Namespace";
    await assertCompliant(namespacePsaLabels, [resource(NS, ns)]);
    await assertViolates(namespacePsaLabels, [resource(NS, mutate(ns, "metadata.labels", {}))], /no valid/);
    const privileged = mutate(ns, "metadata.labels", { "pod-security.kubernetes.io/enforce": "privileged" });
    await assertViolates(namespacePsaLabels, [resource(NS, privileged)], /not in privilegedNamespaces/);
    await assertCompliant(namespacePsaLabels, [resource(NS, privileged)], {
      privilegedNamespaces: ["ai-workflow-prod"],
    });
  });

  it("k8s-no-public-load-balancer: the gateway's internal LB passes; a public one or another LB Service fails", async () => {
    const gateway = {
      name: "istio-ingressgateway",
      namespace: "istio-ingress",
      chart: "gateway",
      values: {
        service: {
          type: "LoadBalancer",
          annotations: { "service.beta.kubernetes.io/azure-load-balancer-internal": "true" },
        },
      },
    };
    const RELEASE = "kubernetes:helm.sh/v3:Release";
    await assertCompliant(noPublicLoadBalancer, [resource(RELEASE, gateway)]);
    await assertViolates(
      noPublicLoadBalancer,
      [resource(RELEASE, mutate(gateway, "values.service.annotations", {}))],
      /not internal/,
    );
    const svc = { metadata: { name: "grafana", namespace: "monitoring" }, spec: { type: "ClusterIP" } };
    await assertCompliant(noPublicLoadBalancer, [resource("kubernetes:core/v1:Service", svc)]);
    await assertViolates(
      noPublicLoadBalancer,
      [resource("kubernetes:core/v1:Service", mutate(svc, "spec.type", "LoadBalancer"))],
      /only the ingress gateway/,
    );
  });
});
