/** Container image references, read the way container runtimes read them. */

export interface ImageRef {
  /** Registry host, "docker.io" when the reference names none. */
  registry: string;
  /** Repository path within the registry ("library/nginx" for "nginx"). */
  repository: string;
  tag?: string;
  digest?: string;
}

export function parseImage(image: string): ImageRef {
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const [first, ...others] = rest.split("/");
  const hasRegistry =
    others.length > 0 && (first.includes(".") || first.includes(":") || first === "localhost");
  const registry = hasRegistry ? first : "docker.io";
  let repository = hasRegistry ? others.join("/") : rest;
  if (registry === "docker.io" && !repository.includes("/")) repository = `library/${repository}`;
  return { registry, repository, tag, digest };
}

/**
 * Whether an image matches an allow-list pattern on "<registry>/<repository>": `*` stands for any run of
 * characters other than "/", `**` for anything. "*.azurecr.io/**" allows every repository of any ACR.
 */
export function imageMatches(image: string, pattern: string): boolean {
  const ref = parseImage(image);
  const subject = `${ref.registry}/${ref.repository}`;
  const regex = pattern
    .split("**")
    .map((part) =>
      part
        .split("*")
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join("[^/]*"),
    )
    .join(".*");
  return new RegExp(`^${regex}$`).test(subject);
}
