import { describe, expect, it } from 'vitest';
import {
  InvalidGitHubTargetError,
  repositoryPath,
  subjectOf,
  targetOfSubject,
  validateBranch,
  validateRepository,
} from '../../../../../provision/resources/ci-github/github.js';
import { deployRoleName } from '../../../../../provision/resources/ci-github/names.js';

describe('validateRepository', () => {
  it.each(['acme/api', 'Acme-Inc/my.repo_2', 'a/b', 'old-/x', 'acme@123456/api@789012'])(
    'accepts %s',
    (repo) => expect(validateRepository(repo)).toBe(repo),
  );

  it.each([
    ['acme', 'expected OWNER/NAME'],
    ['acme/api/extra', 'expected OWNER/NAME'],
    ['/api', 'the owner ""'],
    ['acme/', 'the name ""'],
    ['acme_inc/api', 'the owner "acme_inc"'],
    ['acme/api!', 'the name "api!"'],
    ['acme/a b', 'the name "a b"'],
    [`${'a'.repeat(40)}/api`, 'is not a GitHub account name'],
    [`acme/${'r'.repeat(101)}`, 'is not a GitHub repository name'],
    ['acme/..', 'named "." or ".."'],
    ['acme/api.git', 'ending in ".git"'],
    ['acme@12/api', 'or neither'],
    ['acme@x1/api@2', 'the owner "acme@x1"'],
    ['acme@1@2/api@3', 'the owner "acme@1@2"'],
  ])('refuses %s, naming what is wrong', (repo, says) => {
    expect(() => validateRepository(repo)).toThrow(InvalidGitHubTargetError);
    expect(() => validateRepository(repo)).toThrow(says);
    expect(() => validateRepository(repo)).toThrow(JSON.stringify(repo));
  });
});

describe('validateBranch', () => {
  it.each(['main', 'release/2026.12', 'feat/x+y', 'it$s', 'a{b}', 'UPPER', 'v1@2'])(
    'accepts %s, which git accepts',
    (branch) => expect(validateBranch(branch)).toBe(branch),
  );

  it.each([
    ['', 'it is empty'],
    ['-main', 'begins with "-"'],
    ['@', 'it is "@"'],
    ['a b', 'a space'],
    ['a:b', 'one of'],
    ['a~1', 'one of'],
    ['a^', 'one of'],
    ['a?', 'one of'],
    ['a*', 'one of'],
    ['a[b', 'one of'],
    ['a\\b', 'one of'],
    ['a\tb', 'control character'],
    ['a..b', '".."'],
    ['a@{1}', '"@{"'],
    ['a/', 'empty path component'],
    ['/a', 'empty path component'],
    ['a//b', 'empty path component'],
    ['a.', 'ends with "."'],
    ['a/.b', 'begins with "."'],
    ['a.lock', 'ends with ".lock"'],
    ['a.lock/b', 'ends with ".lock"'],
  ])('refuses %j as git check-ref-format --branch does', (branch, says) => {
    expect(() => validateBranch(branch)).toThrow(InvalidGitHubTargetError);
    expect(() => validateBranch(branch)).toThrow(says);
  });
});

describe('subjectOf', () => {
  it('is the sub claim of a push to the branch: repo:OWNER/NAME:ref:refs/heads/BRANCH', () => {
    expect(subjectOf({ repo: 'acme/api', branch: 'main' })).toBe(
      'repo:acme/api:ref:refs/heads/main',
    );
  });

  it('keeps the ids of a repository whose tokens carry immutable ids', () => {
    expect(subjectOf({ repo: 'acme@12/api@34', branch: 'release/1' })).toBe(
      'repo:acme@12/api@34:ref:refs/heads/release/1',
    );
  });

  it('reads back to the same repository and branch, even a branch with ":ref:" lookalikes', () => {
    const target = { repo: 'acme/api', branch: 'x/refs/heads/y' };
    expect(targetOfSubject(subjectOf(target))).toEqual(target);
    expect(targetOfSubject('repo:acme/api:pull_request')).toBeUndefined();
    expect(targetOfSubject('repo:acme/api:environment:prod')).toBeUndefined();
  });

  it('drops the ids for the URL path', () => {
    expect(repositoryPath('acme@12/api@34')).toBe('acme/api');
    expect(repositoryPath('acme/api')).toBe('acme/api');
  });
});

describe('deployRoleName', () => {
  it('names one role per stack and region, like the execution role', () => {
    expect(deployRoleName('iclinic', 'sa-east-1')).toBe('iclinic-sa-east-1-deploy');
  });

  it('stays within IAM role names of 64 characters for the longest stack name', () => {
    expect(deployRoleName('a'.repeat(24), 'ap-southeast-3').length).toBeLessThanOrEqual(64);
    expect(() => deployRoleName('a'.repeat(24), `${'x'.repeat(32)}-1`)).toThrow('64 characters');
  });
});
