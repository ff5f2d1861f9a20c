import { useMutation, useQueryClient } from '@tanstack/react-query';
import { App } from 'antd';
import { useTranslation } from 'react-i18next';
import { post } from '../../api/client.js';
import type { Case } from '../../api/types.js';
import { useSession } from '../../session.js';

export const caseKey = (corp: string, id: string) => ['case', corp, id] as const;

/** POST …/cases/:id/<verb>; the answer (the case as it is now) replaces the cached one. */
export function useCaseAction(caseId: string, verb: 'notes' | 'alerts' | 'participants' | 'hold' | 'close') {
  const { t } = useTranslation();
  const { corp } = useSession();
  const { message } = App.useApp();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: object) => post<Case>(`/api/v1/corps/${corp}/review/cases/${caseId}/${verb}`, body),
    onSuccess: async (updated) => {
      client.setQueryData(caseKey(corp, caseId), updated);
      await client.invalidateQueries({ queryKey: ['cases', corp] });
      void message.success(t('cases.saved'));
    },
    onError: (e) => void message.error((e as Error).message),
  });
}
