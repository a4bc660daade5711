# use_artifact(NAME:ALIAS) in a run and download it into ROOT.
import sys
import wandb

run = wandb.init(job_type="consume")
a = run.use_artifact(sys.argv[1])
print("DIR=" + a.download(root=sys.argv[2]))
run.finish()
