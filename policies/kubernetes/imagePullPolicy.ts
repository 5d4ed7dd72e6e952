import type { ResourceValidationPolicy } from "@pulumi/policy";
import { parseImage } from "../lib/images";
import { containersOf, podSpecOf } from "../lib/kubernetes";

/**
 * A tag can be re-pushed: with IfNotPresent (the default for any tag but `latest`) a node that cached the old
 * push keeps running it, so the same spec runs different code on different nodes. A digest names the content
 * itself, so a cached copy is always the right one.
 */
export const imagePullPolicy: ResourceValidationPolicy = {
  name: "k8s-image-pull-policy",
  description:
    "A container whose image is pinned by tag only pulls it Always; IfNotPresent only for images pinned by digest.",
  enforcementLevel: "mandatory",
  severity: "low",
  validateResource: (args, reportViolation) => {
    for (const { container } of containersOf(podSpecOf(args.type, args.props))) {
      if (typeof container.image !== "string" || container.image === "") continue;
      if (parseImage(container.image).digest) continue;
      const policy = (container as { imagePullPolicy?: string }).imagePullPolicy;
      if (policy !== "Always") {
        reportViolation(
          `container "${container.name}" image ${container.image} is pinned by tag only but pulled ${policy ?? "IfNotPresent (the default for a tag)"}: pull Always, or pin a digest.`,
        );
      }
    }
  },
};
