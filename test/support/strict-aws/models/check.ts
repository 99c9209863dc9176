/**
 * One request the proxy parsed, checked against its service's API model:
 * the wire form decoded back into the operation's input (by protocol), then
 * validated against the input shape.
 */
import type { AwsRequest } from '../types.js';
import type { Decoded, Problem } from './decoded.js';
import { decodeJson } from './decode-json.js';
import { decodeQuery } from './decode-query.js';
import { decodeRestXml } from './decode-rest-xml.js';
import { modelFor, type Operation, type ServiceModel } from './loader.js';
import { validateInput } from './validate.js';

export type ModelCheck =
  | {
      readonly checked: true;
      /** botocore folder and api version. */
      readonly model: string;
      readonly problems: readonly Problem[];
      readonly skippedPatterns: readonly string[];
    }
  /** No model is mapped for the service (see BOTOCORE_FOLDER in loader.ts). */
  | { readonly checked: false; readonly reason: string };

function decode(
  request: AwsRequest,
  model: ServiceModel,
  operation: Operation,
): { input: Decoded; problems: Problem[] } {
  switch (request.protocol) {
    case 'ec2':
    case 'query':
      return decodeQuery(model, operation.input, request.params, request.protocol === 'ec2');
    case 'json':
      return decodeJson(model, operation.input, request.params);
    case 'rest-xml': {
      if (request.wire === undefined) throw new Error('the proxy kept no wire form of the request');
      const { method, url, headers, body } = request.wire;
      return decodeRestXml(model, operation, { method, url, headers, body: body.toString('utf8') });
    }
  }
}

export function checkRequest(request: AwsRequest): ModelCheck {
  const model = modelFor(request.service);
  if (model === undefined) {
    return { checked: false, reason: `no API model mapped for signing name "${request.service}"` };
  }
  const operation = model.operations[request.operation];
  if (operation === undefined) {
    return {
      checked: true,
      model: model.id,
      problems: [
        {
          kind: 'unknown',
          path: request.operation,
          constraint: 'The operation is not in the model',
        },
      ],
      skippedPatterns: [],
    };
  }
  let decoded: { input: Decoded; problems: Problem[] };
  try {
    decoded = decode(request, model, operation);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      checked: true,
      model: model.id,
      problems: [
        { kind: 'type', path: '(body)', constraint: `The request cannot be read: ${reason}` },
      ],
      skippedPatterns: [],
    };
  }
  const verdict = validateInput(model, operation.input, decoded.input);
  return {
    checked: true,
    model: model.id,
    problems: [...decoded.problems, ...verdict.problems],
    skippedPatterns: verdict.skippedPatterns,
  };
}
