/**
 * AWS's published API models, as botocore ships them in the Python
 * emulator's venv (`botocore/data/<folder>/<api-version>/service-2.json[.gz]`):
 * the same Smithy models the SDKs are generated from, in botocore's JSON form
 * (https://github.com/boto/botocore/tree/develop/botocore/data). A request
 * names its service by the SigV4 signing name; adding a service is one line
 * in BOTOCORE_FOLDER.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { REPO_ROOT } from '../../moto.js';

/** SigV4 signing name → botocore's folder (ELBv1 shares elbv2's signing name, so no lookup by metadata). */
const BOTOCORE_FOLDER: Readonly<Record<string, string>> = {
  acm: 'acm',
  'application-autoscaling': 'application-autoscaling',
  cloudfront: 'cloudfront',
  ec2: 'ec2',
  ecr: 'ecr',
  ecs: 'ecs',
  elasticloadbalancing: 'elbv2',
  iam: 'iam',
  logs: 'logs',
  monitoring: 'cloudwatch',
  route53: 'route53',
  secretsmanager: 'secretsmanager',
  servicequotas: 'service-quotas',
  sns: 'sns',
  sts: 'sts',
};

/** A reference to a shape, with the traits the referring member adds (botocore's "shape ref"). */
export interface ShapeRef {
  readonly shape: string;
  /** REST binding: uri, querystring, header, headers; absent for the body. */
  readonly location?: string;
  /** Wire name: query key, XML element, header, URI label. */
  readonly locationName?: string;
  /** EC2's own wire name, before locationName (ec2QueryName). */
  readonly queryName?: string;
  readonly flattened?: boolean;
  readonly xmlAttribute?: boolean;
}

export interface Shape extends Omit<ShapeRef, 'shape'> {
  readonly type: string;
  readonly members?: Readonly<Record<string, ShapeRef>>;
  readonly required?: readonly string[];
  /** List member; map key and value. */
  readonly member?: ShapeRef;
  readonly key?: ShapeRef;
  readonly value?: ShapeRef;
  /** Length (string, blob, list, map) or range (numbers). */
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: string;
  readonly enum?: readonly string[];
  readonly sensitive?: boolean;
  readonly union?: boolean;
  readonly document?: boolean;
  /** REST: the member that is the whole body. */
  readonly payload?: string;
}

export interface Operation {
  readonly name: string;
  readonly http?: { readonly method: string; readonly requestUri: string };
  readonly input?: ShapeRef;
}

export interface ServiceModel {
  /** botocore's folder and api version, e.g. `elbv2 2015-12-01`: what a refusal cites. */
  readonly id: string;
  readonly operations: Readonly<Record<string, Operation>>;
  readonly shapes: Readonly<Record<string, Shape>>;
}

/** The shape a ref points to, with the ref's own traits over the shape's (as botocore resolves it). */
export function resolve(model: ServiceModel, ref: ShapeRef): Shape {
  const shape = model.shapes[ref.shape];
  if (shape === undefined) throw new Error(`${model.id}: no shape "${ref.shape}"`);
  const { shape: _name, ...traits } = ref;
  return { ...shape, ...traits };
}

function venvRoots(): string[] {
  const moto = process.env.MOTO_SERVER;
  return [...(moto === undefined ? [] : [dirname(dirname(moto))]), join(REPO_ROOT, '.venv-moto')];
}

/** botocore's data folder: BOTOCORE_DATA, or the one in moto's venv (see test/support/moto.ts). */
export function botocoreDataDir(): string {
  const explicit = process.env.BOTOCORE_DATA;
  if (explicit !== undefined) return explicit;
  for (const root of venvRoots()) {
    const lib = join(root, 'lib');
    if (!existsSync(lib)) continue;
    for (const python of readdirSync(lib).filter((name) => name.startsWith('python'))) {
      const data = join(lib, python, 'site-packages', 'botocore', 'data');
      if (existsSync(data)) return data;
    }
  }
  throw new Error(
    'botocore data not found: run "bash .ci/setup-moto.sh" (creates .venv-moto) or set BOTOCORE_DATA to botocore/data.',
  );
}

const loaded = new Map<string, ServiceModel>();

function readModel(folder: string, signingName: string): ServiceModel {
  const serviceDir = join(botocoreDataDir(), folder);
  // Folders are ISO dates: the newest sorts last.
  const version = readdirSync(serviceDir).sort().at(-1) ?? '';
  const dir = join(serviceDir, version);
  const file = ['service-2.json.gz', 'service-2.json']
    .map((name) => join(dir, name))
    .find((path) => existsSync(path));
  if (file === undefined) throw new Error(`no service-2.json in ${dir}`);
  const bytes = readFileSync(file);
  const json = JSON.parse((file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8')) as {
    metadata: { signingName?: string; endpointPrefix: string };
    operations: Record<string, Operation>;
    shapes: Record<string, Shape>;
  };
  const modelSigningName = json.metadata.signingName ?? json.metadata.endpointPrefix;
  if (modelSigningName !== signingName) {
    throw new Error(
      `botocore ${folder} signs as "${modelSigningName}", not "${signingName}": fix BOTOCORE_FOLDER`,
    );
  }
  return { id: `${folder} ${version}`, operations: json.operations, shapes: json.shapes };
}

/** The API model of the service with this SigV4 signing name, or undefined when none is mapped. */
export function modelFor(signingName: string): ServiceModel | undefined {
  const folder = BOTOCORE_FOLDER[signingName];
  if (folder === undefined) return undefined;
  let model = loaded.get(signingName);
  if (model === undefined) {
    model = readModel(folder, signingName);
    loaded.set(signingName, model);
  }
  return model;
}
