import * as echarts from 'echarts';
import { useEffect, useRef } from 'react';

/** An ECharts chart that follows its container's size. */
export function Chart({
  option,
  height = 280,
  testId,
}: {
  option: echarts.EChartsCoreOption;
  height?: number;
  testId?: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const chart = echarts.init(ref.current!, undefined, { renderer: 'canvas' });
    chart.setOption(option);
    const resize = new ResizeObserver(() => chart.resize());
    resize.observe(ref.current!);
    return () => {
      resize.disconnect();
      chart.dispose();
    };
  }, [option]);
  return <div ref={ref} style={{ height, width: '100%' }} data-testid={testId} />;
}
