/**
 * Settings as a stack file gives them, for tests of validation: the project keys of `Pulumi.<stack>.yaml`, with
 * every secret present as `pulumi config set --secret` leaves it (an opaque ciphertext), then edited and parsed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { parseSettings, projectKeys, SECRET_KEYS, SettingsError, type Settings } from "../../settings";

/** The project keys of a stack file, secrets present but opaque. */
export function stackValues(stack: string): Record<string, any> {
  const file = path.resolve(__dirname, "..", "..", `Pulumi.${stack}.yaml`);
  const doc = yaml.load(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
  const values = structuredClone(projectKeys(doc.config)) as Record<string, any>;
  for (const key of SECRET_KEYS) values[key] ??= { secure: "AAABAJ2g5xQ=" };
  return values;
}

/** A stack's settings after `edit` of its values, or the SettingsError that validation raises. */
export function parseStack(
  stack: string,
  edit: (values: Record<string, any>) => void = () => {},
): Settings | SettingsError {
  const values = stackValues(stack);
  edit(values);
  try {
    return parseSettings(values, `Pulumi.${stack}.yaml`);
  } catch (e) {
    if (e instanceof SettingsError) return e;
    throw e;
  }
}
