import assert from "node:assert/strict";
import { enforcedLevel, podSecurityViolations, podTemplateOf } from "../../lib/podSecurity";
import { STACKS } from "../support/estate";
import { clusterObjects, requireCharts } from "../support/cluster";

/** A pod that the restricted level admits: the example of the Pod Security Standards page, reduced. */
const restrictedPod = () => ({
  spec: {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
    containers: [
      {
        name: "app",
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
      },
    ],
    volumes: [{ name: "data", emptyDir: {} }],
  },
});

describe("Pod Security Standards: each control admits and refuses", () => {
  it("restricted admits the reference pod, and so do baseline and privileged", () => {
    for (const level of ["restricted", "baseline", "privileged"] as const)
      assert.deepEqual(podSecurityViolations(restrictedPod(), level), []);
  });

  it("baseline refuses host namespaces, hostPath, privileged, added capabilities, hostPort, unsafe sysctls", () => {
    const cases: [string, (p: any) => void, RegExp][] = [
      ["hostNetwork", (p) => (p.spec.hostNetwork = true), /hostNetwork/],
      ["hostPID", (p) => (p.spec.hostPID = true), /hostPID/],
      ["hostPath", (p) => p.spec.volumes.push({ name: "h", hostPath: { path: "/var" } }), /hostPath/],
      ["privileged", (p) => (p.spec.containers[0].securityContext.privileged = true), /privileged/],
      [
        "NET_ADMIN",
        (p) => (p.spec.containers[0].securityContext.capabilities.add = ["NET_ADMIN"]),
        /NET_ADMIN/,
      ],
      ["hostPort", (p) => (p.spec.containers[0].ports = [{ containerPort: 80, hostPort: 80 }]), /hostPort/],
      ["sysctl", (p) => (p.spec.securityContext.sysctls = [{ name: "kernel.msgmax", value: "1" }]), /sysctl/],
    ];
    for (const [name, edit, message] of cases) {
      const pod = restrictedPod();
      edit(pod);
      assert.match(podSecurityViolations(pod, "baseline").join("\n"), message, name);
      assert.deepEqual(podSecurityViolations(pod, "privileged"), [], `${name} under privileged`);
    }
    const safe = restrictedPod() as any;
    safe.spec.securityContext.sysctls = [{ name: "net.ipv4.ip_unprivileged_port_start", value: "0" }];
    safe.spec.containers[0].securityContext.capabilities.add = ["NET_BIND_SERVICE"];
    assert.deepEqual(podSecurityViolations(safe, "restricted"), []);
  });

  it("restricted also refuses escalation, root, no seccomp, kept capabilities and other volume types", () => {
    const cases: [string, (p: any) => void, RegExp][] = [
      [
        "escalation",
        (p) => delete p.spec.containers[0].securityContext.allowPrivilegeEscalation,
        /allowPrivilegeEscalation/,
      ],
      ["non-root", (p) => delete p.spec.securityContext.runAsNonRoot, /runAsNonRoot/],
      ["uid 0", (p) => (p.spec.containers[0].securityContext.runAsUser = 0), /runAsUser 0/],
      ["seccomp", (p) => delete p.spec.securityContext.seccompProfile, /seccompProfile/],
      ["drop ALL", (p) => delete p.spec.containers[0].securityContext.capabilities, /drop ALL/],
      ["CHOWN", (p) => (p.spec.containers[0].securityContext.capabilities.add = ["CHOWN"]), /CHOWN/],
      [
        "nfs",
        (p) => p.spec.volumes.push({ name: "n", nfs: { server: "s", path: "/" } }),
        /nfs is not allowed/,
      ],
    ];
    for (const [name, edit, message] of cases) {
      const pod = restrictedPod();
      edit(pod);
      assert.match(podSecurityViolations(pod, "restricted").join("\n"), message, name);
    }
    const perContainer = restrictedPod() as any;
    delete perContainer.spec.securityContext;
    Object.assign(perContainer.spec.containers[0].securityContext, {
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    assert.deepEqual(podSecurityViolations(perContainer, "restricted"), [], "container-level settings count");
  });

  it("reads the level from the namespace label; an unlabelled namespace enforces nothing", () => {
    const ns = (level?: string) => ({
      metadata: { labels: level ? { "pod-security.kubernetes.io/enforce": level } : {} },
    });
    assert.equal(enforcedLevel(ns("restricted")), "restricted");
    assert.equal(enforcedLevel(ns("baseline")), "baseline");
    assert.equal(enforcedLevel(ns()), "privileged");
    assert.equal(enforcedLevel(undefined), "privileged");
  });
});

describe("every pod the estate runs is admitted by its namespace's Pod Security level", () => {
  for (const stack of STACKS) {
    it(`${stack}: program and chart workloads pass the level their namespace enforces`, async function () {
      requireCharts(this);
      const objects = (await clusterObjects(stack)).map((o) => ({ ...o, manifest: o.manifest }));
      const namespaces = new Map(
        objects
          .filter((o) => o.manifest.kind === "Namespace")
          .map((o) => [o.manifest.metadata.name, o.manifest]),
      );
      const failures: string[] = [];
      let checked = 0;
      for (const { source, manifest } of objects) {
        const template = podTemplateOf(manifest);
        if (!template) continue;
        const ns = manifest.metadata?.namespace;
        const level = enforcedLevel(namespaces.get(ns));
        checked++;
        for (const v of podSecurityViolations(template, level))
          failures.push(`${source} ${manifest.kind} ${ns}/${manifest.metadata.name} (${level}): ${v}`);
      }
      assert.ok(checked > 20, `${stack} has workloads to check (${checked})`);
      assert.deepEqual(failures, []);
    });
  }
});
