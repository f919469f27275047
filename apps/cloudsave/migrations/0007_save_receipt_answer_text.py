"""An Idempotency-Key receipt keeps its answer's JSON text beside the object, so a replay is
byte-identical; a nullable column: metadata only, and the previous release's inserts leave it
null."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cloudsave', '0006_tombstone_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='savereceipt',
            name='answer_text',
            field=models.TextField(blank=True, null=True),
        ),
    ]
