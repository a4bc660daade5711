# Benchmark: log FOLDER as artifact NAME and wait until the server committed it; prints the
# seconds log_artifact took (until committed) and the whole script's seconds.
import sys, time
t0 = time.monotonic()
import wandb

folder, name = sys.argv[1], sys.argv[2]
run = wandb.init(job_type="bench")
artifact = wandb.Artifact(name, type="dataset")
t1 = time.monotonic()
artifact.add_dir(folder)
run.log_artifact(artifact)
artifact.wait()
t2 = time.monotonic()
run.finish()
print(f"LOG_SECONDS={t2 - t1:.3f}")
print(f"SCRIPT_SECONDS={time.monotonic() - t0:.3f}")
