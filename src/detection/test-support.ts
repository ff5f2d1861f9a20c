import type { CanonicalMessage } from './types.js';

/** A canonical message with defaults, for tests and the quality corpus. */
export function message(overrides: Partial<CanonicalMessage> = {}): CanonicalMessage {
  return {
    msgid: 'm1',
    corpId: 'corp',
    conversationId: 'conv',
    conversationKind: 'external',
    direction: 'outbound',
    senderId: 'zhangsan',
    senderKind: 'employee',
    senderDepartmentIds: [],
    senderSensitivePost: false,
    msgtype: 'text',
    action: 'send',
    time: Date.UTC(2024, 5, 3, 2, 0), // Monday 10:00 in Shanghai
    text: '',
    recipientIds: ['wmCustomer'],
    recipientsExternal: true,
    ...overrides,
  };
}
