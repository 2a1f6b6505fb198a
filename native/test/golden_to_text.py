#!/usr/bin/env python3
"""Converts a golden JSON case (shared/golden) into the plain text read by golden_driver.

Format: one header line `cell layers bidirectional I H B T`, then one line per array:
`name count v1 v2 ...`. Weight and gradient tensors keep their state_dict order."""
import json, sys

CELLS = ['rnn_tanh', 'rnn_relu', 'lstm', 'lstm_peephole', 'gru', 'gru_cho', 'jordan']

def flat(v):
    if isinstance(v, list):
        for e in v:
            yield from flat(e)
    else:
        yield v

case = json.load(open(sys.argv[1]))
out = [f"{CELLS.index(case['cell'])} {case['layers']} {int(case['bidirectional'])} {case['input_size']} "
       f"{case['hidden_size']} {case['batch']} {case['steps']}"]
def put(name, v):
    vals = list(flat(v))
    out.append(name + ' ' + str(len(vals)) + ' ' + ' '.join(repr(float(x)) for x in vals))
for k in ['x', 'h0', 'c0', 'y', 'hn', 'cn', 'dy', 'dhn', 'dcn']:
    if k in case:
        put(k, case[k])
for k, v in case['weights'].items():
    put('W:' + k, v)
for k, v in case['grads'].items():
    put('G:' + k, v)
print('\n'.join(out))
