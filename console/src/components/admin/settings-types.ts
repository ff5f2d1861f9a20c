/** Shapes of the administration settings API (src/crypto/keys.routes.ts, connector and sampling routes). */

export interface RotationJob {
  jobId: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  progress: { done: number; total?: number; message?: string } | null;
  lastError: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface KeyStatus {
  provider: string;
  current: number;
  versions: Array<{
    version: number;
    state: string;
    createdAt: string | null;
    current: boolean;
    deks: number;
  }>;
  pendingRewrap: number;
  destroyedScopes: number;
  corps: Array<{
    corpId: string;
    slug: string | null;
    name: string | null;
    versions: Array<{ kekVersion: number; deks: number }>;
    pending: number;
    destroyed: number;
  }>;
  rotation: RotationJob | null;
}

export const SECRET_KINDS = [
  'archive',
  'contacts',
  'externalcontact',
  'app',
  'callback_token',
  'callback_aeskey',
] as const;
export type SecretKind = (typeof SECRET_KINDS)[number];

export interface ConnectorSettingsValues {
  wecomCorpId: string;
  sdkMode: 'native' | 'emulator';
  sdkLibrary: string | null;
  apiBaseUrl: string;
  proxy: string | null;
  pollIntervalSeconds: number;
  enabled: boolean;
}

export interface ConnectorView {
  corpId: number;
  slug: string;
  name: string;
  settings: ConnectorSettingsValues | null;
  secrets: Array<{ kind: SecretKind; set: boolean; changedAt: string | null; changedBy: string | null }>;
  rsaKeyVersions: number[];
}

export const RATE_FIELDS = ['monthlyRate', 'recheckRate', 'lowScoreBelow', 'humanReviewTarget'] as const;
export type RateField = (typeof RATE_FIELDS)[number];

export interface SamplingSettingsView {
  stored: Record<RateField, number | null> & {
    weeklySensitive: boolean;
    updatedAt: string | null;
    updatedBy: string | null;
  };
  defaults: Record<RateField, number>;
  effective: Record<RateField, number> & { weeklySensitive: boolean };
}
