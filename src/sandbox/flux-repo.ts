import { mkdir, rm, writeFile } from "node:fs/promises";
import { join, normalize } from "node:path";
import { BroadsideError, usageError } from "../core/errors.js";
import { run, runChecked } from "./exec.js";

/*
 * The sandbox's Git repository (`--with flux`): a bare repository that the git server serves read-only
 * over HTTP, and a work tree beside it where the sandbox commits and from which it pushes by path. git
 * runs with a fixed environment: no user's or system's configuration, hooks or credential helpers, a
 * fixed author, so a commit here is the same on every machine.
 */

export interface GitRepository {
  /** GIT_PROJECT_ROOT of the git server: holds `<name>.git`. */
  readonly root: string;
  readonly name: string;
  readonly bare: string;
  readonly workTree: string;
  /** The PATH git and its helpers are found on. */
  readonly path: string;
}

export const branch = "main";

export function gitEnvironment(repository: Pick<GitRepository, "root" | "path">): NodeJS.ProcessEnv {
  const who = { name: "Broadside sandbox", email: "sandbox@broadside.invalid" };
  return {
    PATH: repository.path,
    HOME: repository.root,
    LC_ALL: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    GIT_AUTHOR_NAME: who.name,
    GIT_AUTHOR_EMAIL: who.email,
    GIT_COMMITTER_NAME: who.name,
    GIT_COMMITTER_EMAIL: who.email,
  };
}

async function git(repository: GitRepository, cwd: string, ...args: string[]): Promise<string> {
  return runChecked("git", args, {
    cwd,
    env: gitEnvironment(repository),
    failure: "BRD_SANDBOX_START_FAILED",
  });
}

/** `git` is a prerequisite of `--with flux` only: missing, it is BRD_PREREQUISITE_MISSING before anything starts. */
export async function assertGit(path: string): Promise<void> {
  await runChecked("git", ["--version"], { env: { PATH: path }, failure: "BRD_SANDBOX_START_FAILED" });
}

/**
 * Makes the bare repository (branch main, no template, so no sample hooks) and its work tree, with a
 * first commit holding a README, pushed by path.
 */
export async function createRepository(repository: GitRepository): Promise<string> {
  await mkdir(repository.root, { recursive: true, mode: 0o700 });
  await git(
    repository,
    repository.root,
    "init",
    "--quiet",
    "--bare",
    "--template=",
    "-b",
    branch,
    repository.bare,
  );
  await mkdir(repository.workTree, { recursive: true, mode: 0o700 });
  await git(repository, repository.workTree, "init", "--quiet", "--template=", "-b", branch);
  await git(repository, repository.workTree, "remote", "add", "origin", repository.bare);
  const readme =
    "# The sandbox's repository\n\nServed read-only over HTTP to Flux by the sandbox's git server; committed to by `broadside sandbox up --flux-interval`.\n";
  return commitFiles(repository, "", [{ path: "README.md", text: readme }], "The sandbox's repository");
}

export interface RepositoryFile {
  /** Relative to the directory it is committed into: letters, digits, '.', '_', '-' and '/'; no '..'. */
  readonly path: string;
  readonly text: string;
}

const filePattern = /^[A-Za-z0-9_][A-Za-z0-9._/-]*$/;

/** A relative path that stays inside the work tree, or a usage error naming it. */
export function checkRepositoryPath(path: string, field: string): string {
  const clean = normalize(path);
  const escapes = clean.split("/").some((part) => part === ".." || part === ".git");
  if (path !== "" && (!filePattern.test(path) || escapes || clean !== path || path.endsWith("/"))) {
    throw usageError(
      field,
      `must be a plain relative path inside the repository, got ${JSON.stringify(path)}`,
    );
  }
  return path;
}

/**
 * Makes `directory` of the work tree hold exactly `files` (what was there and is not among them is
 * removed, so Flux prunes it), commits when anything changed, pushes to the bare repository by path, and
 * returns the commit's sha.
 */
export async function commitFiles(
  repository: GitRepository,
  directory: string,
  files: readonly RepositoryFile[],
  message: string,
): Promise<string> {
  checkRepositoryPath(directory, "directory");
  for (const file of files) checkRepositoryPath(file.path, "file");
  const target = join(repository.workTree, directory);
  if (directory !== "") await rm(target, { recursive: true, force: true });
  for (const file of files) {
    const path = join(target, file.path);
    await mkdir(join(path, ".."), { recursive: true });
    await writeFile(path, file.text);
  }
  await git(repository, repository.workTree, "add", "--all", "--", directory === "" ? "." : directory);
  if (await hasStagedChanges(repository)) {
    await git(repository, repository.workTree, "commit", "--quiet", "--no-verify", "-m", message);
    await git(repository, repository.workTree, "push", "--quiet", "origin", `HEAD:refs/heads/${branch}`);
  }
  return (await git(repository, repository.workTree, "rev-parse", "HEAD")).trim();
}

async function hasStagedChanges(repository: GitRepository): Promise<boolean> {
  const result = await run("git", ["diff", "--cached", "--quiet"], {
    cwd: repository.workTree,
    env: gitEnvironment(repository),
    failure: "BRD_SANDBOX_START_FAILED",
  });
  if (result.exitCode > 1) {
    throw new BroadsideError(
      "BRD_SANDBOX_START_FAILED",
      `git diff failed in ${repository.workTree}: ${result.stderr}`,
    );
  }
  return result.exitCode === 1;
}
