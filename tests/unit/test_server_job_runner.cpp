// Tests of src/server (job_runner): written with its implementation.
