"""`make shards ENV=prod`: an environment's platform stack and tenant shards, from every stack file of the project
directory (what `pulumi config set` writes), with tenant counts and the environment's headroom on each quota.

    python -m tools.shards --env prod
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from whitelabel.config import ConfigError
from whitelabel.environment import environment, headroom, project_raw, read_stack_files, share
from whitelabel.offline import ROOT


def render(env_stack: str, project_dir: Path) -> str:
    """The environment of platform stack `env_stack` as text for a person; ConfigError for a broken file."""
    files = read_stack_files(project_dir)
    if env_stack not in files:
        raise ConfigError("platform", f"no stack file Pulumi.{env_stack}.yaml in the project directory")
    env = environment(env_stack, project_raw(files[env_stack]), files)
    lines = [f"Environment {env.platform}: the platform and {len(env.shards)} tenant shards"]
    lines.append(f"  {'stack':<24} {'role':<9} {'tenants':>8} {'API keys':>9} {'records':>8}")
    for member in env.members:
        used = share(member)
        role = "shard" if member.shard else "platform"
        tenants = len(member.settings.customers)
        lines.append(f"  {member.stack:<24} {role:<9} {tenants:>8,} {used.api_keys:>9,} {used.records:>8,}")
    tenants = sum(len(m.settings.customers) for m in env.members)
    lines.append(f"  {'total':<24} {'':<9} {tenants:>8,}")
    lines.append("\nQuotas over the environment (per account and region; records per hosted zone):")
    for quota, count, limit in headroom(env):
        lines.append(f"  {quota:<45} {count:>7,} of {limit:>7,}   headroom {limit - count:>7,}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="dev", help="the platform stack of the environment (default: dev)")
    parser.add_argument("--project-dir", type=Path, default=ROOT, help="the project directory (default: this one)")
    args = parser.parse_args(argv)
    try:
        print(render(args.env, args.project_dir))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
