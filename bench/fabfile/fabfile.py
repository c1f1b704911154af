"""The Fabric counterpart of Deployfile.swift.example, for `fab --list` timing."""
from fabric import task


@task
def uptime(c):
    """Show load on every host"""
    c.run("uptime")


@task
def disk(c):
    """Show free space where the app lives"""
    c.run("mkdir -p /srv/shop")
    c.run("df -h /srv/shop | tail -1")


@task
def hello(c, name):
    """Greet someone from every web host"""
    c.run(f"echo Hello, {name}, from $(hostname)")


@task
def release_info(c):
    """Show the live release, if any"""
    with c.cd("/srv/shop"):
        if c.run("test -f REVISION", warn=True).ok:
            c.run("cat REVISION")
        else:
            c.run("echo no release yet")
