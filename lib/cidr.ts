/** IPv4 CIDR arithmetic for planning the estate's address space before anything is declared. */
export interface Cidr {
  /** The network address as an unsigned 32-bit number. */
  start: number;
  /** The last address of the block. */
  end: number;
  prefix: number;
  text: string;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Parses a dotted IPv4 address; throws when it is not one. */
export function parseIp(text: string): number {
  const match = IPV4.exec(text);
  if (!match) throw new Error(`"${text}" is not an IPv4 address`);
  const octets = match.slice(1).map(Number);
  if (octets.some((o) => o > 255)) throw new Error(`"${text}" is not an IPv4 address`);
  return octets.reduce((acc, o) => acc * 256 + o, 0);
}

/** Parses "a.b.c.d/n"; throws when the text is malformed or has host bits set. */
export function parseCidr(text: string): Cidr {
  const [address, prefixText, ...rest] = text.split("/");
  if (rest.length > 0 || prefixText === undefined || !/^\d{1,2}$/.test(prefixText)) {
    throw new Error(`"${text}" is not a CIDR block like 10.0.0.0/16`);
  }
  const prefix = Number(prefixText);
  if (prefix > 32) throw new Error(`"${text}" has a prefix longer than 32`);
  const start = parseIp(address);
  const size = 2 ** (32 - prefix);
  if (start % size !== 0)
    throw new Error(
      `"${text}" has host bits set; the network address is ${formatIp(start - (start % size))}/${prefix}`,
    );
  return { start, end: start + size - 1, prefix, text };
}

export function formatIp(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/** True when `inner` lies wholly inside `outer`. */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return inner.start >= outer.start && inner.end <= outer.end;
}

/** True when the two blocks share at least one address. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.start <= b.end && b.start <= a.end;
}

/** True when the address lies inside the block. */
export function ipInCidr(ip: string, block: Cidr): boolean {
  const value = parseIp(ip);
  return value >= block.start && value <= block.end;
}
