/**
 * The name given to --domain: one host name the certificate, the
 * distribution's alias and the DNS records all carry.
 */

export class InvalidDomainNameError extends Error {
  constructor(received: string, reason: string) {
    super(
      `--domain ${JSON.stringify(received)} is not a name the tool can serve: ${reason}. ` +
        'Give one host name such as api.example.com (letters, digits and hyphens, labels joined by dots).',
    );
    this.name = 'InvalidDomainNameError';
  }
}

// A DNS name is at most 253 characters in text form and each label at most
// 63 (RFC 1035 section 2.3.4); ACM takes the same limits for DomainName,
// and labels of letters, digits and hyphens that neither start nor end with
// a hyphen (RFC 1123 section 2.1):
// https://docs.aws.amazon.com/acm/latest/APIReference/API_RequestCertificate.html
const MAX_NAME_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;
const LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * Lower case, without a trailing dot; throws InvalidDomainNameError for a
 * bare IP, a wildcard (one certificate and alias per name: a wildcard
 * would also need DNS records the tool cannot own), a single label, or a
 * name or label over the limits.
 */
export function validateDomainName(value: string): string {
  const name = value.trim().toLowerCase().replace(/\.$/, '');
  if (name === '') throw new InvalidDomainNameError(value, 'it is empty');
  if (name.includes('*')) {
    throw new InvalidDomainNameError(value, 'wildcards are not supported, name one host');
  }
  if (IPV4.test(name) || name.includes(':')) {
    throw new InvalidDomainNameError(
      value,
      'it is an IP address; certificates and CloudFront aliases need a DNS name',
    );
  }
  if (name.length > MAX_NAME_LENGTH) {
    throw new InvalidDomainNameError(
      value,
      `it has ${name.length} characters, over the ${MAX_NAME_LENGTH} a DNS name allows`,
    );
  }
  const labels = name.split('.');
  if (labels.length < 2) {
    throw new InvalidDomainNameError(value, 'it has a single label; give the full name');
  }
  for (const label of labels) {
    if (label.length > MAX_LABEL_LENGTH) {
      throw new InvalidDomainNameError(
        value,
        `the label "${label.slice(0, 20)}..." has ${label.length} characters, over the ${MAX_LABEL_LENGTH} DNS allows`,
      );
    }
    if (!LABEL.test(label)) {
      throw new InvalidDomainNameError(
        value,
        label === ''
          ? 'it has an empty label (two dots in a row, or a leading dot)'
          : `the label "${label}" has a character other than letters, digits and inner hyphens`,
      );
    }
  }
  if (/^\d+$/.test(labels.at(-1) ?? '')) {
    throw new InvalidDomainNameError(value, 'its last label is all digits, which no TLD is');
  }
  return name;
}

/** The names a hosted zone holds: the zone's name and everything under it. */
export function zoneHolds(zoneName: string, domain: string): boolean {
  const zone = zoneName.toLowerCase().replace(/\.$/, '');
  return domain === zone || domain.endsWith(`.${zone}`);
}
