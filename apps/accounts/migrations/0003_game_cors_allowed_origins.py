from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_auth_sessions"),
    ]

    operations = [
        migrations.AddField(
            model_name="game",
            name="cors_allowed_origins",
            field=models.TextField(
                blank=True,
                default="",
                help_text="Web origins whose browser builds (WebGL, HTML5) may call the API for this game, one per line, e.g. https://play.example.com. Empty: none.",
            ),
        ),
    ]
