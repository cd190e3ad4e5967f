from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.demo import DEMO_PASSWORD, seed_demo_people


class Command(BaseCommand):
    help = "Load the demo organization (idempotent) and print the demo login."

    def handle(self, *args, **options):
        org, people, teams = seed_demo_people()
        for hook in _extra_seeders():
            hook(org=org, people=people, teams=teams)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  Log in at {settings.SITE_URL}/ as demo@okrapp.local / {DEMO_PASSWORD}")


def _extra_seeders():
    """Other apps add their demo data here (objectives, check-ins); each seeder must be idempotent."""
    from django.utils.module_loading import import_string

    seeders = []
    for path in ("objectives.demo.seed_demo_okrs",):
        try:
            seeders.append(import_string(path))
        except ImportError:
            continue
    return seeders
