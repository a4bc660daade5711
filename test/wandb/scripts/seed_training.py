# The seed's second snippet, verbatim, then where the files went (for the test to compare).
import wandb

run = wandb.init(job_type="model-training")
artifact = run.use_artifact('my-dataset:latest')
artifact_dir = artifact.download()
print("ARTIFACT_DIR=" + artifact_dir)
