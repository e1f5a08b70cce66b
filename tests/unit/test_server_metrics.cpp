// Tests of src/server (metrics): written with its implementation.
