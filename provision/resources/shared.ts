/**
 * Small checks more than one resource module needs (the network's security
 * groups and the load balancer's target group both take the container
 * port; the load balancer and the ECS service both compare id sets).
 */

/** Same members, whatever the order and repetition (AWS lists subnets and groups in any order). */
export function sameSet(a: readonly string[] | undefined, b: readonly string[]): boolean {
  const left = new Set(a ?? []);
  const right = new Set(b);
  return left.size === right.size && [...left].every((x) => right.has(x));
}

export class InvalidPortError extends Error {
  constructor(port: number) {
    super(
      `Invalid container port ${port}: use an integer from 1 to 65535 (the port the service listens on, 8080 by default).`,
    );
    this.name = 'InvalidPortError';
  }
}

/** TCP ports are 1-65535; AWS rejects others only after the first resources exist. */
export function validatePort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidPortError(port);
}
