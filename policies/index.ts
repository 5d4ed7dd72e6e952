/**
 * The estate's CrossGuard policy pack: `pulumi preview --policy-pack policies
 * --policy-pack-config policies/config/<stack>.json`. Constructing the PolicyPack starts the analyzer's gRPC
 * server, so this file does nothing else; the policies live in `all.ts`.
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_ENFORCEMENT_LEVEL, PACK_NAME, POLICIES } from "./all";

new PolicyPack(PACK_NAME, {
  policies: POLICIES,
  enforcementLevel: PACK_ENFORCEMENT_LEVEL,
  description: "Azure, Kubernetes, mesh, delivery and estate-wide rules of the AI Workflow Platform estate.",
  provider: "azure",
  tags: ["azure", "kubernetes", "istio", "flagger"],
});
