import type { StackValidationPolicy } from "@pulumi/policy";
import {
  ACCESS_ROLES,
  ACCESS_TAGS,
  grantDescription,
  parseAccessTag,
  redisAssignmentName,
  type AccessRole,
} from "../../lib/access";

const IDENTITY = "azure-native:managedidentity:UserAssignedIdentity";

/**
 * Every data service of the estate has local auth and keys disabled, so an identity that calls one (its
 * `aiwp-data-access` tag, written from the access matrix) can only do so with a grant there: a role
 * assignment naming the service in its description, the service's Redis access policy assignment, or its
 * PostgreSQL Entra principal.
 */
export const identityDataAccessGranted: StackValidationPolicy = {
  name: "identity-data-access-granted",
  description:
    "A workload identity that calls an Azure data service (its aiwp-data-access tag) holds the role it needs there.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateStack: (args, reportViolation) => {
    const descriptions = new Set<string>();
    const redis = new Set<string>();
    const postgres = new Set<string>();
    for (const r of args.resources) {
      if (r.type === "azure-native:authorization:RoleAssignment" && r.props.description) {
        descriptions.add(String(r.props.description));
      }
      if (r.type === "azure-native:redisenterprise:AccessPolicyAssignment") {
        redis.add(String(r.props.accessPolicyAssignmentName ?? ""));
      }
      if (r.type === "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra") {
        postgres.add(String(r.props.principalName ?? ""));
      }
    }
    for (const r of args.resources) {
      if (r.type !== IDENTITY) continue;
      const tags = (r.props.tags ?? {}) as Record<string, string>;
      const service = tags[ACCESS_TAGS.workload];
      const access = tags[ACCESS_TAGS.dataAccess];
      if (!service || !access) continue;
      for (const { resource, role } of parseAccessTag(access)) {
        const spec = ACCESS_ROLES[role as AccessRole];
        if (!spec) {
          reportViolation(
            `identity of ${service}: "${role}" on ${resource} is not a role of the access matrix.`,
            r.urn,
          );
          continue;
        }
        const held =
          spec.kind === "roleAssignment"
            ? descriptions.has(grantDescription(service, role))
            : spec.kind === "redisAccessPolicy"
              ? redis.has(redisAssignmentName(service))
              : postgres.has(service);
        if (!held) {
          reportViolation(
            `identity of ${service} calls ${resource} but holds no ${role} there: with local auth disabled its calls would be refused.`,
            r.urn,
          );
        }
      }
    }
  },
};
