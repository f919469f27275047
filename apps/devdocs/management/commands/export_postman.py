"""`manage.py export_postman`: the Postman collection and demo environment, from the schema."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from apps.devdocs.postman import build_collection, build_environment, dump, openapi_schema

POSTMAN_DIR = Path(settings.BASE_DIR) / "docs" / "postman"
COLLECTION_FILE = "gaming-panel.postman_collection.json"
ENVIRONMENT_FILE = "demo.postman_environment.json"


def exported_files() -> dict[str, str]:
    """File name → content, exactly as the command writes them."""
    return {
        COLLECTION_FILE: dump(build_collection(openapi_schema())),
        ENVIRONMENT_FILE: dump(build_environment()),
    }


class Command(BaseCommand):
    help = "Generate docs/postman/ (collection and demo environment) from the OpenAPI schema."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output-dir", default=str(POSTMAN_DIR))

    def handle(self, *args: object, output_dir: str, **options: object) -> None:
        target = Path(output_dir)
        target.mkdir(parents=True, exist_ok=True)
        for name, content in exported_files().items():
            (target / name).write_text(content, encoding="utf-8")
            self.stdout.write(f"wrote {target / name}")
