# The seed's first snippet, verbatim: log my-dataset.txt as a dataset.
import wandb

run = wandb.init(job_type="dataset-creation")
artifact = wandb.Artifact('my-dataset', type='dataset')
artifact.add_file('my-dataset.txt')
run.log_artifact(artifact)            # new version only when the checksum changed
