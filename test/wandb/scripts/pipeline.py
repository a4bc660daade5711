# One step of a three-step pipeline: use an input artifact (if any), write files, log an output.
# usage: pipeline.py JOB_TYPE INPUT|- OUTPUT_NAME OUTPUT_TYPE
import os, sys
import wandb

job_type, input_name, output_name, output_type = sys.argv[1:5]
run = wandb.init(job_type=job_type, config={"step": job_type, "lr": 0.01})
text = ""
if input_name != "-":
    d = run.use_artifact(input_name + ":latest").download()
    for name in sorted(os.listdir(d)):
        with open(os.path.join(d, name)) as f:
            text += f.read()
os.makedirs(output_name, exist_ok=True)
with open(os.path.join(output_name, "data.txt"), "w") as f:
    f.write(f"{job_type}\n{text}")
artifact = wandb.Artifact(output_name, type=output_type)
artifact.add_dir(output_name)
run.log_artifact(artifact)
run.log({"loss": 0.5})
run.summary["final"] = 1
run.finish()
