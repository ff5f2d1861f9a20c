import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useContext, useState, type ReactNode } from 'react';
import { ApiError, get, setCsrfToken } from './api/client.js';
import type { Me } from './api/types.js';

interface Session {
  me: Me;
  corp: string;
  setCorp(slug: string): void;
  can(permission: string): boolean;
  refresh(): Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in page');
  return s;
}

/** The signed-in user (GET /auth/me), or `signedOut` when there is no full session yet. */
export function useMe() {
  return useQuery({
    queryKey: ['me'],
    queryFn: async () => {
      try {
        const me = await get<Me>('/api/v1/auth/me');
        setCsrfToken(me.csrfToken);
        return me;
      } catch (e) {
        if (e instanceof ApiError && (e.status === 401 || e.status === 403)) return null;
        throw e;
      }
    },
    retry: false,
  });
}

export function SessionProvider({ me, children }: { me: Me; children: ReactNode }) {
  const client = useQueryClient();
  const [corp, setCorpState] = useState(() => {
    const saved = localStorage.getItem('vigil.corp');
    return me.corps.find((c) => c.slug === saved)?.slug ?? me.corps[0]?.slug ?? '';
  });
  const session: Session = {
    me,
    corp,
    setCorp(slug) {
      localStorage.setItem('vigil.corp', slug);
      setCorpState(slug);
      void client.invalidateQueries();
    },
    can: (permission) => me.permissions.includes(permission),
    refresh: () => client.invalidateQueries({ queryKey: ['me'] }),
  };
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}
