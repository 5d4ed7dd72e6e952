import type { ResourceValidationPolicy } from "@pulumi/policy";
import { configOf, schema } from "../lib/config";
import { parseImage } from "../lib/images";
import { containersOf, podSpecOf } from "../lib/kubernetes";

const configSchema = schema({
  requireDigest: {
    type: "boolean",
    default: false,
    description:
      "Require a digest (`@sha256:...`) on every image, not only a version tag: a tag can be re-pushed, a digest cannot.",
  },
});

/** A moving tag makes a rollout unrepeatable and a rollback meaningless: the same spec pulls different code. */
export const imagePinned: ResourceValidationPolicy = {
  name: "k8s-image-pinned",
  description:
    "Every container image is pinned to a version tag or digest, never `latest` or no tag; with requireDigest, to a digest.",
  enforcementLevel: "mandatory",
  severity: "medium",
  configSchema,
  validateResource: (args, reportViolation) => {
    const { requireDigest } = configOf<{ requireDigest: boolean }>(configSchema, args);
    for (const { container } of containersOf(podSpecOf(args.type, args.props))) {
      if (typeof container.image !== "string" || container.image === "") {
        reportViolation(`container "${container.name}" has no image.`);
        continue;
      }
      const ref = parseImage(container.image);
      if (ref.digest) continue;
      if (requireDigest) {
        reportViolation(
          `container "${container.name}" image ${container.image} has no digest; requireDigest asks for <image>:<tag>@sha256:<digest>.`,
        );
      } else if (ref.tag === undefined || ref.tag === "latest") {
        reportViolation(
          `container "${container.name}" image ${container.image} is not pinned (tag ${ref.tag ?? "none"}).`,
        );
      }
    }
  },
};
