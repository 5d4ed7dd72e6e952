/** Resource props as the engine hands them over: untyped JSON, read defensively. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Props = Record<string, any>;
