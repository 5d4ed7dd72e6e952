/* eslint-disable @typescript-eslint/no-explicit-any -- pod templates are untyped YAML, and every field is read defensively */
/**
 * Pod Security Standards as the Pod Security Admission controller enforces them (kubernetes.io/docs/concepts/
 * security/pod-security-standards, policy version "latest" as of Kubernetes 1.33): which controls of the
 * `baseline` and `restricted` levels a pod template breaks. A namespace's `pod-security.kubernetes.io/enforce`
 * label decides the level; a pod that breaks it is rejected, so the workload that owns it never runs.
 */

export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/** Capabilities baseline allows a container to add (the container runtime's defaults). */
const BASELINE_CAPABILITIES = new Set([
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
]);

/** The "safe" sysctls baseline allows. */
const SAFE_SYSCTLS = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
]);

/** Volume types restricted allows. */
const RESTRICTED_VOLUMES = new Set([
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
]);

/** Kubernetes' own volume source keys, so that `name` and friends are not mistaken for a volume type. */
const VOLUME_META = new Set(["name"]);

/** The pod template of a workload object, or undefined for anything that creates no pods. */
export function podTemplateOf(manifest: Record<string, any>): Record<string, any> | undefined {
  switch (manifest.kind) {
    case "Pod":
      return manifest;
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "ReplicaSet":
    case "Job":
      return manifest.spec?.template;
    case "CronJob":
      return manifest.spec?.jobTemplate?.spec?.template;
    default:
      return undefined;
  }
}

/** The controls of `level` that a pod template breaks, one line each, naming the container or volume. */
export function podSecurityViolations(template: Record<string, any>, level: PodSecurityLevel): string[] {
  if (level === "privileged") return [];
  const spec = template.spec ?? {};
  const pod = spec.securityContext ?? {};
  const containers: Record<string, any>[] = [
    ...(spec.initContainers ?? []),
    ...(spec.containers ?? []),
    ...(spec.ephemeralContainers ?? []),
  ];
  const out: string[] = [];
  // Baseline.
  for (const ns of ["hostNetwork", "hostPID", "hostIPC"]) if (spec[ns]) out.push(`${ns}: true`);
  for (const v of spec.volumes ?? []) if (v.hostPath) out.push(`volume ${v.name}: hostPath`);
  if (pod.seccompProfile?.type === "Unconfined") out.push("pod seccompProfile Unconfined");
  for (const s of pod.sysctls ?? []) if (!SAFE_SYSCTLS.has(s.name)) out.push(`sysctl ${s.name} is not safe`);
  for (const c of containers) {
    const sc = c.securityContext ?? {};
    const where = `container ${c.name}`;
    if (sc.privileged) out.push(`${where}: privileged`);
    for (const cap of sc.capabilities?.add ?? [])
      if (!BASELINE_CAPABILITIES.has(cap)) out.push(`${where}: adds capability ${cap}`);
    for (const p of c.ports ?? []) if (p.hostPort) out.push(`${where}: hostPort ${p.hostPort}`);
    if (sc.procMount && sc.procMount !== "Default") out.push(`${where}: procMount ${sc.procMount}`);
    if (sc.seccompProfile?.type === "Unconfined") out.push(`${where}: seccompProfile Unconfined`);
  }
  if (level === "baseline") return out;
  // Restricted.
  for (const v of spec.volumes ?? []) {
    const types = Object.keys(v).filter((k) => !VOLUME_META.has(k));
    for (const t of types) if (!RESTRICTED_VOLUMES.has(t)) out.push(`volume ${v.name}: ${t} is not allowed`);
  }
  const podNonRoot = pod.runAsNonRoot === true;
  const podSeccomp = ["RuntimeDefault", "Localhost"].includes(pod.seccompProfile?.type);
  if (pod.runAsUser === 0) out.push("pod runAsUser 0");
  for (const c of containers) {
    const sc = c.securityContext ?? {};
    const where = `container ${c.name}`;
    if (sc.allowPrivilegeEscalation !== false) out.push(`${where}: allowPrivilegeEscalation is not false`);
    if (sc.runAsNonRoot === false || (!podNonRoot && sc.runAsNonRoot !== true))
      out.push(`${where}: runAsNonRoot is not true`);
    if (sc.runAsUser === 0) out.push(`${where}: runAsUser 0`);
    const seccomp = sc.seccompProfile?.type;
    if (!(seccomp ? ["RuntimeDefault", "Localhost"].includes(seccomp) : podSeccomp))
      out.push(`${where}: seccompProfile is not RuntimeDefault or Localhost`);
    if (!(sc.capabilities?.drop ?? []).includes("ALL")) out.push(`${where}: capabilities do not drop ALL`);
    for (const cap of sc.capabilities?.add ?? [])
      if (cap !== "NET_BIND_SERVICE") out.push(`${where}: adds capability ${cap}`);
  }
  return out;
}

/** The level a namespace enforces, from its labels; an unlabelled namespace admits everything (privileged). */
export function enforcedLevel(namespace: Record<string, any> | undefined): PodSecurityLevel {
  const level = namespace?.metadata?.labels?.["pod-security.kubernetes.io/enforce"];
  return level === "baseline" || level === "restricted" ? level : "privileged";
}
