from tortoise import migrations
from tortoise.migrations import operations as ops
from models.accounts import SignInFailureReason
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0008_sqlite_fk_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SignInFailure',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('email', fields.CharField(null=True, max_length=254)),
                ('address', fields.CharField(max_length=64)),
                ('reason', fields.CharEnumField(description='WRONG_PASSWORD: WRONG_PASSWORD\nUNKNOWN_ACCOUNT: UNKNOWN_ACCOUNT\nTHROTTLED: THROTTLED\nINACTIVE: INACTIVE\nBAD_API_KEY: BAD_API_KEY', enum_type=SignInFailureReason, max_length=16)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sign_in_failure', 'app': 'models', 'indexes': [Index(fields=['email', 'address', 'at']), Index(fields=['address', 'at'])], 'pk_attr': 'id', 'table_description': 'A refused sign-in or partner key, kept for the throttle (every server process counts the same rows) and for'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SignUp',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('address', fields.CharField(max_length=64)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sign_up', 'app': 'models', 'indexes': [Index(fields=['address', 'at'])], 'pk_attr': 'id', 'table_description': 'An anonymous `registerUmkm` that created an account, by client address: sign-ups per address are bounded.'},
            bases=['Model'],
        ),
    ]
