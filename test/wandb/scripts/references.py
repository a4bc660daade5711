# add_reference: a file:// path and (when given) an s3:// object; then download in a new run.
import sys
import wandb

file_uri, s3_uri = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)
run = wandb.init(job_type="register-refs")
artifact = wandb.Artifact('refs', type='dataset')
artifact.add_reference(file_uri, name='local.bin')
if s3_uri:
    artifact.add_reference(s3_uri, name='remote.bin')
run.log_artifact(artifact)
run.finish()
