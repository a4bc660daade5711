# log_artifact with custom aliases, then the public API: artifact("entity/project/name:v0").download().
import os, sys
import wandb

run = wandb.init(job_type="dataset-creation")
artifact = wandb.Artifact('my-dataset', type='dataset')
artifact.add_file('my-dataset.txt')
run.log_artifact(artifact, aliases=["best", "candidate"])
run.finish()

api = wandb.Api()
a = api.artifact(f"{os.environ['WANDB_ENTITY_NAME']}/{os.environ['WANDB_PROJECT']}/my-dataset:v0")
root = a.download(root=sys.argv[1])
print("API_VERSION=" + a.version)
print("API_DIR=" + root)
