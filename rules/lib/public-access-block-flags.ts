/** The four Block Public Access flags, shared by the bucket-level and account-level rules. */
export interface PublicAccessBlockFlags {
  BlockPublicAcls: boolean;
  IgnorePublicAcls: boolean;
  BlockPublicPolicy: boolean;
  RestrictPublicBuckets: boolean;
}

export const ALL_BLOCKED: PublicAccessBlockFlags = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};

const FLAG_NAMES = Object.keys(ALL_BLOCKED) as Array<keyof PublicAccessBlockFlags>;

/** A missing configuration means every flag is off (NoSuchPublicAccessBlockConfiguration is state). */
export function flagsFrom(config: Partial<Record<keyof PublicAccessBlockFlags, boolean | undefined>> | null | undefined): PublicAccessBlockFlags {
  return {
    BlockPublicAcls: config?.BlockPublicAcls === true,
    IgnorePublicAcls: config?.IgnorePublicAcls === true,
    BlockPublicPolicy: config?.BlockPublicPolicy === true,
    RestrictPublicBuckets: config?.RestrictPublicBuckets === true,
  };
}

export function allBlocked(flags: PublicAccessBlockFlags): boolean {
  return FLAG_NAMES.every((name) => flags[name]);
}

export function describeFlags(flags: PublicAccessBlockFlags | null): string {
  if (!flags) return 'no Block Public Access configuration (all off)';
  const on = FLAG_NAMES.filter((name) => flags[name]);
  if (on.length === FLAG_NAMES.length) return 'all four Block Public Access flags on';
  if (on.length === 0) return 'all Block Public Access flags off';
  return `on: ${on.join(', ')}; off: ${FLAG_NAMES.filter((name) => !flags[name]).join(', ')}`;
}
