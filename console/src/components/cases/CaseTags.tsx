import { LockOutlined } from '@ant-design/icons';
import { Space, Tag } from 'antd';
import { useTranslation } from 'react-i18next';
import type { Case } from '../../api/types.js';

/** A case's status and legal hold (法律保全) as tags. */
export function CaseTags({ value }: { value: Pick<Case, 'status' | 'legalHold'> }) {
  const { t } = useTranslation();
  return (
    <Space size={4}>
      <Tag color={value.status === 'open' ? 'processing' : 'default'} data-testid="case-status">
        {t(`cases.${value.status}`)}
      </Tag>
      {value.legalHold && (
        <Tag color="red" icon={<LockOutlined />} data-testid="case-hold">
          {t('cases.legalHold')}
        </Tag>
      )}
    </Space>
  );
}
