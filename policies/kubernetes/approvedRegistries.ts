import type { ResourceValidationPolicy } from "@pulumi/policy";
import { configOf, schema } from "../lib/config";
import { imageMatches } from "../lib/images";
import { containersOf, podSpecOf } from "../lib/kubernetes";

const configSchema = schema({
  approvedRegistries: {
    type: "array",
    items: { type: "string" },
    default: ["*.azurecr.io/**", "mcr.microsoft.com/**"],
    description:
      'Allowed "<registry>/<repository>" patterns: "*" matches within a path segment, "**" across segments.',
  },
});

/** Images from arbitrary registries bypass the estate's scanning and geo-replication (ACR). */
export const approvedRegistries: ResourceValidationPolicy = {
  name: "k8s-approved-registries",
  description:
    "Every container image comes from an approved registry (the estate's ACR or a listed upstream).",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema,
  validateResource: (args, reportViolation) => {
    const config = configOf<{ approvedRegistries: string[] }>(configSchema, args);
    for (const { container } of containersOf(podSpecOf(args.type, args.props))) {
      if (typeof container.image !== "string") continue;
      if (!config.approvedRegistries.some((pattern) => imageMatches(container.image as string, pattern))) {
        reportViolation(
          `container "${container.name}" image ${container.image} is not from an approved registry.`,
        );
      }
    }
  },
};
