DROP TABLE logs;
DROP TABLE flow_calls;
DROP TABLE step_dependencies;
DROP TABLE steps;
DROP TABLE stages;
DROP TABLE runs;
