import type { ResourceValidationPolicy } from "@pulumi/policy";
import { parseImage } from "../lib/images";
import { containersOf, podSpecOf } from "../lib/kubernetes";

/** A moving tag makes a rollout unrepeatable and a rollback meaningless: the same spec pulls different code. */
export const imagePinned: ResourceValidationPolicy = {
  name: "k8s-image-pinned",
  description: "Every container image is pinned to a version tag or digest, never `latest` or no tag.",
  enforcementLevel: "mandatory",
  severity: "medium",
  validateResource: (args, reportViolation) => {
    for (const { container } of containersOf(podSpecOf(args.type, args.props))) {
      if (typeof container.image !== "string" || container.image === "") {
        reportViolation(`container "${container.name}" has no image.`);
        continue;
      }
      const ref = parseImage(container.image);
      if (ref.digest) continue;
      if (ref.tag === undefined || ref.tag === "latest") {
        reportViolation(
          `container "${container.name}" image ${container.image} is not pinned (tag ${ref.tag ?? "none"}).`,
        );
      }
    }
  },
};
