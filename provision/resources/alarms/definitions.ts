/** The two alarms' definitions: which metric, which threshold, for how long. */
import type { MetricDataQuery, PutMetricAlarmCommandInput } from '@aws-sdk/client-cloudwatch';
import { isNotCreatedYet } from '../../plan.js';

/**
 * The dimension values CloudWatch uses for ALB metrics: the ARNs' endings
 * "app/NAME/ID" and "targetgroup/NAME/ID"
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html#load-balancer-metric-dimensions-alb).
 */
export function metricDimensions(
  loadBalancerArn: string,
  targetGroupArn: string,
): { Name: string; Value: string }[] | undefined {
  if (isNotCreatedYet(loadBalancerArn) || isNotCreatedYet(targetGroupArn)) return undefined;
  const lb = /:loadbalancer\/(app\/[^/]+\/[^/]+)$/.exec(loadBalancerArn)?.[1];
  const tg = /:(targetgroup\/[^/]+\/[^/]+)$/.exec(targetGroupArn)?.[1];
  if (lb === undefined || tg === undefined) {
    throw new Error(
      `Cannot name the alarm metrics from load balancer ${loadBalancerArn} and target group ` +
        `${targetGroupArn}: expected ARNs ending in loadbalancer/app/NAME/ID and targetgroup/NAME/ID.`,
    );
  }
  return [
    { Name: 'LoadBalancer', Value: lb },
    { Name: 'TargetGroup', Value: tg },
  ];
}

export type AlarmInput = PutMetricAlarmCommandInput & { AlarmName: string };

const ALB_NAMESPACE = 'AWS/ApplicationELB';
const PERIOD_SECONDS = 60;

/**
 * Unhealthy targets: any target failing its health check for three minutes
 * in a row. A task that fails once is replaced by ECS within that time; one
 * that stays unhealthy (a bad image, a crash loop) is what to hear about.
 */
export function unhealthyAlarm(
  name: string,
  dimensions: { Name: string; Value: string }[],
): AlarmInput {
  return {
    AlarmName: name,
    AlarmDescription: 'A target of the service has failed its health check for 3 minutes.',
    Namespace: ALB_NAMESPACE,
    MetricName: 'UnHealthyHostCount',
    Dimensions: dimensions,
    Statistic: 'Maximum',
    Period: PERIOD_SECONDS,
    EvaluationPeriods: 3,
    DatapointsToAlarm: 3,
    Threshold: 0,
    ComparisonOperator: 'GreaterThanThreshold',
    TreatMissingData: 'notBreaching',
  };
}

export const ERROR_RATE_THRESHOLD_PERCENT = 5;
export const ERROR_RATE_MIN_REQUESTS = 10;

/**
 * The 5xx rate, not a count: a fixed count is noise at high traffic and
 * never reached at low traffic, while a share means the same at any load.
 * Below ERROR_RATE_MIN_REQUESTS a minute the rate is 0 so one failed
 * request out of two does not page anyone. HTTPCode_Target_5XX_Count has
 * no data point in a minute without errors, hence FILL(..., 0)
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html).
 * Alarm when above 5 % in 3 of 5 minutes, so one bad minute (a deploy
 * swapping tasks) does not.
 */
export function errorRateAlarm(
  name: string,
  dimensions: { Name: string; Value: string }[],
): AlarmInput {
  const sum = (id: string, metric: string): MetricDataQuery => ({
    Id: id,
    ReturnData: false,
    MetricStat: {
      Metric: { Namespace: ALB_NAMESPACE, MetricName: metric, Dimensions: dimensions },
      Period: PERIOD_SECONDS,
      Stat: 'Sum',
    },
  });
  return {
    AlarmName: name,
    AlarmDescription: `More than ${ERROR_RATE_THRESHOLD_PERCENT} % of requests answered with 5xx by the tasks.`,
    Metrics: [
      sum('errors', 'HTTPCode_Target_5XX_Count'),
      sum('requests', 'RequestCount'),
      {
        Id: 'rate',
        Label: 'Target 5xx rate (%)',
        Expression: `IF(requests >= ${ERROR_RATE_MIN_REQUESTS}, 100 * FILL(errors, 0) / requests, 0)`,
        ReturnData: true,
      },
    ],
    EvaluationPeriods: 5,
    DatapointsToAlarm: 3,
    Threshold: ERROR_RATE_THRESHOLD_PERCENT,
    ComparisonOperator: 'GreaterThanThreshold',
    TreatMissingData: 'notBreaching',
  };
}
