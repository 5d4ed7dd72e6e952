import type { ResourceValidationPolicy } from "@pulumi/policy";
import { ENVIRONMENT_PROPERTY, appliesToProperty, configOf, requireEnvironment, schema } from "../lib/config";

const configSchema = schema({ environment: ENVIRONMENT_PROPERTY, appliesTo: appliesToProperty(["prod"]) });

/** Detection mode only logs attacks; production blocks them. */
export const frontDoorWafPrevention: ResourceValidationPolicy = {
  name: "frontdoor-waf-prevention",
  description: "Front Door WAF policies are enabled and in Prevention mode in production.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema,
  validateResource: (args, reportViolation) => {
    if (args.type !== "azure-native:frontdoor:Policy") return;
    const config = configOf<{ environment?: string; appliesTo: string[] }>(configSchema, args);
    const environment = requireEnvironment(args, config, args.props);
    const settings = args.props.policySettings ?? {};
    if (settings.mode !== "Prevention") {
      reportViolation(
        `policySettings.mode is ${settings.mode ?? "unset (Detection)"}; ${environment} needs "Prevention".`,
      );
    }
    if (settings.enabledState === "Disabled") reportViolation("policySettings.enabledState must be Enabled.");
  },
};
