import type { StackValidationPolicy } from "@pulumi/policy";

const ORIGIN = "azure-native:cdn:AFDOrigin";

/**
 * Front Door rejects an origin group that mixes Private Link origins with public ones ("Origin Group can only
 * have origins with private links or origins without private links", learn.microsoft.com/azure/frontdoor/private-link FAQ).
 */
export const frontDoorOriginGroupNotMixed: StackValidationPolicy = {
  name: "frontdoor-origin-group-not-mixed",
  description:
    "A Front Door origin group holds only Private Link origins or only public origins, never both (Azure rejects the mix).",
  enforcementLevel: "mandatory",
  severity: "high",
  validateStack: (args, reportViolation) => {
    const groups = new Map<string, { privateLink: string[]; public: string[]; urn: string }>();
    for (const r of args.resources) {
      if (r.type !== ORIGIN) continue;
      const key = `${r.props.profileName ?? "?"}/${r.props.originGroupName ?? "?"}`;
      const group = groups.get(key) ?? { privateLink: [], public: [], urn: r.urn };
      const name = String(r.props.originName ?? r.name);
      if (r.props.sharedPrivateLinkResource?.privateLink?.id) group.privateLink.push(name);
      else group.public.push(name);
      groups.set(key, group);
    }
    for (const [key, group] of groups) {
      if (group.privateLink.length > 0 && group.public.length > 0) {
        reportViolation(
          `origin group ${key} mixes Private Link origins (${group.privateLink.join(", ")}) with public ones (${group.public.join(", ")}): give every origin a sharedPrivateLinkResource, or split the group.`,
          group.urn,
        );
      }
    }
  },
};
