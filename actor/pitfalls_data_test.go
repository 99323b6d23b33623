package actor

// Each case below was run through the XState oracle (node oracle.mjs, xstate
// 5.33.3) and its output recorded as want. TestPitfalls replays them through
// RunCase: one case per pitfall of the oracle README, per built-in, and per
// feature the random corpus does not generate (partial wildcards, several
// targets, root targets, nested parallel completion, escaped ids, ...).

var pitfallCases = []struct {
	name  string
	case_ string
	want  string
}{
	{
		name:  "p1-targets",
		case_: `{"machine":{"id":"m","initial":"a","context":{"log":[]},"states":{"a":{"initial":"a1","states":{"a1":{"on":{"SIB":"a2"}},"a2":{"on":{"ABS":"#m.b.b2","ID":"#bee"}},"x":{}},"on":{"DOT":".a2"}},"b":{"id":"bee","initial":"b1","states":{"b1":{},"b2":{"on":{"BACK":"#m.a.a1"}}}}}},"events":[{"type":"SIB"},{"type":"ABS"},{"type":"BACK"},{"type":"DOT"},{"type":"ID"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":{"a":"a1"},"context":{"log":[]},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"SIB"},"value":{"a":"a2"},"context":{"log":[]},"status":"active","done":false,"now":0},{"step":2,"event":{"type":"ABS"},"value":{"b":"b2"},"context":{"log":[]},"status":"active","done":false,"now":0},{"step":3,"event":{"type":"BACK"},"value":{"a":"a1"},"context":{"log":[]},"status":"active","done":false,"now":0},{"step":4,"event":{"type":"DOT"},"value":{"a":"a2"},"context":{"log":[]},"status":"active","done":false,"now":0},{"step":5,"event":{"type":"ID"},"value":{"b":"b1"},"context":{"log":[]},"status":"active","done":false,"now":0}]}`,
	},
	{
		name:  "p2-js-order",
		case_: `{"machine":{"id":"m","type":"parallel","context":{"log":[]},"states":{"b":{"entry":[{"type":"xorc.append","params":{"value":"b"}}]},"10":{"entry":[{"type":"xorc.append","params":{"value":"10"}}]},"2":{"entry":[{"type":"xorc.append","params":{"value":"2"}}]},"a":{"entry":[{"type":"xorc.append","params":{"value":"a"}}]}}},"events":[]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":{"2":{},"10":{},"b":{},"a":{}},"context":{"log":["2","10","b","a"]},"status":"active","done":false,"now":0}]}`,
	},
	{
		name:  "p3-action-order",
		case_: `{"machine":{"id":"m","type":"parallel","context":{"log":[]},"states":{"r1":{"initial":"a","states":{"a":{"exit":[{"type":"xorc.append","params":{"value":"a-"}}],"on":{"E":{"target":"b","actions":[{"type":"xorc.append","params":{"value":"t1"}}]}}},"b":{"entry":[{"type":"xorc.append","params":{"value":"b+"}}]}}},"r2":{"initial":"c","states":{"c":{"exit":[{"type":"xorc.append","params":{"value":"c-"}}],"on":{"E":{"target":"d","guard":{"type":"xorc.in","params":{"state":"#m.r1.a"}},"actions":[{"type":"xorc.append","params":{"value":"t2"}}]}}},"d":{"entry":[{"type":"xorc.append","params":{"value":"d+"}}]}}}}},"events":[{"type":"E"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":{"r1":"a","r2":"c"},"context":{"log":[]},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"E"},"value":{"r1":"b","r2":"d"},"context":{"log":["c-","a-","t1","t2","b+","d+"]},"status":"active","done":false,"now":0}]}`,
	},
	{
		name:  "p4-self-reenter",
		case_: `{"machine":{"id":"m","initial":"p","context":{"log":[]},"states":{"p":{"initial":"x","entry":[{"type":"xorc.append","params":{"value":"p+"}}],"exit":[{"type":"xorc.append","params":{"value":"p-"}}],"on":{"SELF":{"target":"p","actions":[{"type":"xorc.append","params":{"value":"self"}}]},"RE":{"target":"p","reenter":true},"DOWN":".y"},"states":{"x":{"entry":[{"type":"xorc.append","params":{"value":"x+"}}],"exit":[{"type":"xorc.append","params":{"value":"x-"}}],"on":{"ATOM":{"target":"x","actions":[{"type":"xorc.append","params":{"value":"atom"}}]},"ATOMRE":{"target":"x","reenter":true}}},"y":{"entry":[{"type":"xorc.append","params":{"value":"y+"}}],"exit":[{"type":"xorc.append","params":{"value":"y-"}}]}}}}},"events":[{"type":"ATOM"},{"type":"ATOMRE"},{"type":"DOWN"},{"type":"SELF"},{"type":"RE"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":{"p":"x"},"context":{"log":["p+","x+"]},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"ATOM"},"value":{"p":"x"},"context":{"log":["p+","x+","atom"]},"status":"active","done":false,"now":0},{"step":2,"event":{"type":"ATOMRE"},"value":{"p":"x"},"context":{"log":["p+","x+","atom","x-","x+"]},"status":"active","done":false,"now":0},{"step":3,"event":{"type":"DOWN"},"value":{"p":"y"},"context":{"log":["p+","x+","atom","x-","x+","x-","y+"]},"status":"active","done":false,"now":0},{"step":4,"event":{"type":"SELF"},"value":{"p":"x"},"context":{"log":["p+","x+","atom","x-","x+","x-","y+","y-","self","x+"]},"status":"active","done":false,"now":0},{"step":5,"event":{"type":"RE"},"value":{"p":"x"},"context":{"log":["p+","x+","atom","x-","x+","x-","y+","y-","self","x+","x-","p-","p+","x+"]},"status":"active","done":false,"now":0}]}`,
	},
	{
		name:  "p5-lca",
		case_: `{"machine":{"id":"m","initial":"p","context":{"log":[]},"states":{"p":{"type":"parallel","entry":[{"type":"xorc.append","params":{"value":"p+"}}],"exit":[{"type":"xorc.append","params":{"value":"p-"}}],"states":{"r1":{"initial":"a","entry":[{"type":"xorc.append","params":{"value":"r1+"}}],"exit":[{"type":"xorc.append","params":{"value":"r1-"}}],"states":{"a":{"on":{"X":"#m.p.r2.d","RE":{"target":".","reenter":true}}},"b":{}}},"r2":{"initial":"c","entry":[{"type":"xorc.append","params":{"value":"r2+"}}],"exit":[{"type":"xorc.append","params":{"value":"r2-"}}],"states":{"c":{},"d":{}}}}}}},"events":[{"type":"X"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":{"p":{"r1":"a","r2":"c"}},"context":{"log":["p+","r1+","r2+"]},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"X"},"value":{"p":{"r1":"a","r2":"d"}},"context":{"log":["p+","r1+","r2+","r2-","r1-","r1+","r2+"]},"status":"active","done":false,"now":0}]}`,
	},
	{
		name:  "p6-selection",
		case_: `{"machine":{"id":"m","initial":"p","context":{"log":[]},"states":{"p":{"type":"parallel","on":{"E":{"actions":[{"type":"xorc.append","params":{"value":"p-own"}}]},"F":{"actions":[{"type":"xorc.append","params":{"value":"p-own-F"}}]}},"states":{"r1":{"initial":"a","states":{"a":{"on":{"E":[{"guard":{"type":"xorc.event","params":{"field":"ok"}},"actions":[{"type":"xorc.append","params":{"value":"exact"}}]}],"*":{"actions":[{"type":"xorc.append","params":{"value":"star"}}]}}}}},"r2":{"initial":"c","on":{"E":{"actions":[{"type":"xorc.append","params":{"value":"r2"}}]}},"states":{"c":{}}}}}}},"events":[{"type":"E"},{"type":"E","ok":true},{"type":"F"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":{"p":{"r1":"a","r2":"c"}},"context":{"log":[]},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"E"},"value":{"p":{"r1":"a","r2":"c"}},"context":{"log":["star","r2"]},"status":"active","done":false,"now":0},{"step":2,"event":{"type":"E","ok":true},"value":{"p":{"r1":"a","r2":"c"}},"context":{"log":["star","r2","exact","r2"]},"status":"active","done":false,"now":0},{"step":3,"event":{"type":"F"},"value":{"p":{"r1":"a","r2":"c"}},"context":{"log":["star","r2","exact","r2","star"]},"status":"active","done":false,"now":0}]}`,
	},
	{
		name:  "p7-raise-order",
		case_: `{"machine":{"id":"m","initial":"a","context":{"log":[]},"states":{"a":{"on":{"GO":{"target":"b","actions":[{"type":"xorc.raise","params":{"event":"R"}},{"type":"xorc.append","params":{"value":"go"}}]}}},"b":{"always":{"target":"c","actions":["xorc.append"]},"on":{"R":{"actions":["xorc.append"]}}},"c":{"on":{"R":{"target":"d","actions":["xorc.append"]}}},"d":{"entry":["xorc.append"]}}},"events":[{"type":"GO"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":"a","context":{"log":[]},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"GO"},"value":"d","context":{"log":["go","GO","R","R"]},"status":"active","done":false,"now":0}]}`,
	},
	{
		name:  "p8-eventless-recheck",
		case_: `{"machine":{"id":"m","initial":"a","context":{"count":0,"log":[]},"states":{"a":{"always":{"guard":{"type":"xorc.lt","params":{"value":5}},"actions":["xorc.increment"]},"on":{"LOG":"b"}},"b":{"always":{"actions":[{"type":"xorc.log","params":{"message":"once"}}]},"on":{"LOOP":"c"}},"c":{"always":{"actions":["xorc.increment"]}}}},"events":[{"type":"LOG"},{"type":"LOOP"},{"type":"AFTER"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":"a","context":{"count":5,"log":[]},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"LOG"},"value":"b","context":{"count":5,"log":[]},"status":"active","done":false,"now":0},{"step":2,"event":{"type":"LOOP"},"value":"b","context":{"count":5,"log":[]},"status":"error","done":false,"now":0,"error":"Infinite loop detected: the machine has processed more than 1000 microsteps without reaching a stable state. This usually happens when there's a cycle of transitions (e.g., eventless transitions or raised events causing state A -> B -> C -> A)."},{"step":3,"event":{"type":"AFTER"},"value":"b","context":{"count":5,"log":[]},"status":"error","done":false,"now":0,"error":"Infinite loop detected: the machine has processed more than 1000 microsteps without reaching a stable state. This usually happens when there's a cycle of transitions (e.g., eventless transitions or raised events causing state A -> B -> C -> A)."}]}`,
	},
	{
		name:  "p9-insertion-order",
		case_: `{"machine":{"id":"m","type":"parallel","context":{"count":0,"log":[]},"states":{"r1":{"initial":"a1","states":{"a1":{"on":{"E":{"target":"a2","actions":["xorc.increment"]}}},"a2":{"always":{"target":"a3","guard":{"type":"xorc.gt","params":{"value":0}},"actions":[{"type":"xorc.append","params":{"value":"A"}}]}},"a3":{}}},"r2":{"initial":"b1","states":{"b1":{"always":{"target":"b2","guard":{"type":"xorc.gt","params":{"value":0}},"actions":[{"type":"xorc.append","params":{"value":"B"}}]}},"b2":{}}}}},"events":[{"type":"E"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":{"r1":"a1","r2":"b1"},"context":{"count":0,"log":[]},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"E"},"value":{"r1":"a3","r2":"b2"},"context":{"count":1,"log":["B","A"]},"status":"active","done":false,"now":0}]}`,
	},
	{
		name:  "p10-done",
		case_: `{"machine":{"id":"m","initial":"p","context":{"log":[]},"exit":[{"type":"xorc.append","params":{"value":"m-"}}],"states":{"p":{"type":"parallel","exit":[{"type":"xorc.append","params":{"value":"p-"}}],"onDone":{"target":"end","actions":["xorc.append"]},"states":{"r1":{"initial":"a","onDone":{"actions":["xorc.append"]},"states":{"a":{"on":{"F1":"f"}},"f":{"type":"final"}}},"r2":{"initial":"b","states":{"b":{"on":{"F2":"g"}},"g":{"type":"final"}}}}},"end":{"type":"final","entry":[{"type":"xorc.append","params":{"value":"end+"}}],"exit":[{"type":"xorc.append","params":{"value":"end-"}}]}}},"events":[{"type":"F1"},{"type":"F2"},{"type":"LATER"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":{"p":{"r1":"a","r2":"b"}},"context":{"log":[]},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"F1"},"value":{"p":{"r1":"f","r2":"b"}},"context":{"log":["xstate.done.state.m.p.r1"]},"status":"active","done":false,"now":0},{"step":2,"event":{"type":"F2"},"value":"end","context":{"log":["xstate.done.state.m.p.r1","p-","xstate.done.state.m.p","end+","end-","m-"]},"status":"done","done":true,"now":0},{"step":3,"event":{"type":"LATER"},"value":"end","context":{"log":["xstate.done.state.m.p.r1","p-","xstate.done.state.m.p","end+","end-","m-"]},"status":"done","done":true,"now":0}]}`,
	},
	{
		name:  "p11-value",
		case_: `{"machine":{"id":"m","type":"parallel","states":{"r1":{},"r2":{"initial":"x","states":{"x":{"on":{"E":"y"}},"y":{"type":"final"}}},"r3":{"initial":"z","states":{"z":{"on":{"E":"w"}},"w":{"type":"final"}}}}},"events":[{"type":"E"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":{"r1":{},"r2":"x","r3":"z"},"context":{},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"E"},"value":{"r1":{},"r2":"y","r3":"w"},"context":{},"status":"active","done":false,"now":0}]}`,
	},
	{
		name:  "p12-history",
		case_: `{"machine":{"id":"m","initial":"p","context":{"log":[]},"states":{"p":{"initial":"a","on":{"OUT":"o"},"states":{"a":{"on":{"N":"b"}},"b":{"initial":"b1","states":{"b1":{"on":{"N":"b2"}},"b2":{}}},"hs":{"type":"history"},"hd":{"type":"history","history":"deep"},"ht":{"type":"history","target":"b.b2"}}},"o":{"on":{"S":"#m.p.hs","D":"#m.p.hd","T":"#m.p.ht"}}}},"events":[{"type":"N"},{"type":"N"},{"type":"OUT"},{"type":"D"},{"type":"OUT"},{"type":"S"},{"type":"OUT"},{"type":"T"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":{"p":"a"},"context":{"log":[]},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"N"},"value":{"p":{"b":"b1"}},"context":{"log":[]},"status":"active","done":false,"now":0},{"step":2,"event":{"type":"N"},"value":{"p":{"b":"b2"}},"context":{"log":[]},"status":"active","done":false,"now":0},{"step":3,"event":{"type":"OUT"},"value":"o","context":{"log":[]},"status":"active","done":false,"now":0},{"step":4,"event":{"type":"D"},"value":{"p":{"b":"b2"}},"context":{"log":[]},"status":"active","done":false,"now":0},{"step":5,"event":{"type":"OUT"},"value":"o","context":{"log":[]},"status":"active","done":false,"now":0},{"step":6,"event":{"type":"S"},"value":{"p":{"b":"b1"}},"context":{"log":[]},"status":"active","done":false,"now":0},{"step":7,"event":{"type":"OUT"},"value":"o","context":{"log":[]},"status":"active","done":false,"now":0},{"step":8,"event":{"type":"T"},"value":{"p":{"b":"b1"}},"context":{"log":[]},"status":"active","done":false,"now":0}]}`,
	},
	{
		name:  "p12-history-default",
		case_: `{"machine":{"id":"m","initial":"o","states":{"p":{"initial":"a","states":{"a":{},"b":{"initial":"b1","states":{"b1":{},"b2":{}}},"ht":{"type":"history","target":"b.b2"},"hs":{"type":"history"}}},"q":{"type":"parallel","states":{"r1":{"initial":"x","states":{"x":{},"y":{}}},"r2":{},"h":{"type":"history","history":"deep"}}},"o":{"on":{"T":"#m.p.ht","S":"#m.p.hs","Q":"#m.q.h"}}}},"events":[{"type":"T"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":"o","context":{},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"T"},"value":{"p":{"b":"b2"}},"context":{},"status":"active","done":false,"now":0}]}`,
	},
	{
		name:  "p13-errors",
		case_: `{"machine":{"id":"m","initial":"a","context":{"count":"x"},"states":{"a":{"on":{"INC":{"target":"b","actions":["xorc.increment"]}}},"b":{}}},"events":[{"type":"INC"},{"type":"INC"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":"a","context":{"count":"x"},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"INC"},"value":"a","context":{"count":"x"},"status":"error","done":false,"now":0,"error":"xorc.increment: context.count is not a number (\"x\")"},{"step":2,"event":{"type":"INC"},"value":"a","context":{"count":"x"},"status":"error","done":false,"now":0,"error":"xorc.increment: context.count is not a number (\"x\")"}]}`,
	},
	{
		name:  "p13-infinite",
		case_: `{"machine":{"id":"m","initial":"a","context":{"count":0},"states":{"a":{"on":{"GO":"b"}},"b":{"always":{"actions":["xorc.increment"]}}}},"events":[{"type":"GO"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":"a","context":{"count":0},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"GO"},"value":"a","context":{"count":0},"status":"error","done":false,"now":0,"error":"Infinite loop detected: the machine has processed more than 1000 microsteps without reaching a stable state. This usually happens when there's a cycle of transitions (e.g., eventless transitions or raised events causing state A -> B -> C -> A)."}]}`,
	},
	{
		name:  "after-order-and-clock",
		case_: `{"machine":{"id":"m","initial":"a","context":{"log":[]},"states":{"a":{"after":{"200":{"actions":["xorc.append"]},"100":{"actions":["xorc.append"]},"short":{"actions":["xorc.append"]},"0":{"target":"b","actions":["xorc.append"]}}},"b":{"after":{"50":"c"},"on":{"*":{"actions":["xorc.append"]}}},"c":{"after":{"30":{"target":"c","reenter":true,"actions":["xorc.append"]}}}}},"events":[{"type":"$wait","ms":0},{"type":"X"},{"type":"$wait","ms":120}],"delays":{"short":100}}`,
		want:  `{"steps":[{"step":0,"event":null,"value":"a","context":{"log":[]},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"$wait","ms":0},"value":"b","context":{"log":["xstate.after.0.m.a"]},"status":"active","done":false,"now":0},{"step":2,"event":{"type":"X"},"value":"b","context":{"log":["xstate.after.0.m.a","X"]},"status":"active","done":false,"now":0},{"step":3,"event":{"type":"$wait","ms":120},"value":"c","context":{"log":["xstate.after.0.m.a","X","xstate.after.30.m.c","xstate.after.30.m.c"]},"status":"active","done":false,"now":120}]}`,
	},
	{
		name:  "builtins",
		case_: `{"machine":{"id":"m","initial":"a","states":{"a":{"on":{"E":{"actions":[{"type":"xorc.assign","params":{"obj":{"k":[1,2]},"s":"x"}},"xorc.increment",{"type":"xorc.increment","params":{"key":"n","by":-0.5}},"xorc.append",{"type":"xorc.append","params":{"key":"vals","value":null}},{"type":"xorc.copy","params":{"key":"got","field":"payload"}},{"type":"xorc.copy","params":{"key":"none","field":"missing"}}]},"G":[{"guard":{"type":"xorc.and","params":{"guards":[{"type":"xorc.eq","params":{"value":1}},{"type":"xorc.ne","params":{"key":"s","value":"y"}},{"type":"xorc.gte","params":{"key":"n","value":-0.5}},{"type":"xorc.event","params":{"field":"v","value":[1,{"a":null}]}},{"type":"xorc.not","params":{"guard":{"type":"xorc.or","params":{"guards":[]}}}}]}},"target":"b"}]}},"b":{"entry":[{"type":"xorc.copy","params":{"key":"t","field":"type"}}]}}},"events":[{"type":"E","payload":{"deep":[true]}},{"type":"G","v":[1,{"a":null}]}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":"a","context":{},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"E","payload":{"deep":[true]}},"value":"a","context":{"obj":{"k":[1,2]},"s":"x","count":1,"n":-0.5,"log":["E"],"vals":[null],"got":{"deep":[true]},"none":null},"status":"active","done":false,"now":0},{"step":2,"event":{"type":"G","v":[1,{"a":null}]},"value":"b","context":{"obj":{"k":[1,2]},"s":"x","count":1,"n":-0.5,"log":["E"],"vals":[null],"got":{"deep":[true]},"none":null,"t":"G"},"status":"active","done":false,"now":0}]}`,
	},
	{
		name:  "partial-wildcards",
		case_: `{"machine":{"id":"m","initial":"a","context":{"log":[]},"states":{"a":{"on":{"foo.*":{"actions":[{"type":"xorc.append","params":{"value":"foo.*"}}]},"foo.bar.*":{"actions":[{"type":"xorc.append","params":{"value":"foo.bar.*"}}]},"*":{"actions":[{"type":"xorc.append","params":{"value":"*"}}]},"foo.bar":{"guard":{"type":"xorc.event","params":{"field":"x"}},"actions":[{"type":"xorc.append","params":{"value":"exact"}}]}}}}},"events":[{"type":"foo.bar"},{"type":"foo.bar","x":1},{"type":"foo"},{"type":"foo.bar.baz"},{"type":"food"},{"type":"foo.*"},{"type":"x.foo"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":"a","context":{"log":[]},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"foo.bar"},"value":"a","context":{"log":["foo.bar.*"]},"status":"active","done":false,"now":0},{"step":2,"event":{"type":"foo.bar","x":1},"value":"a","context":{"log":["foo.bar.*","exact"]},"status":"active","done":false,"now":0},{"step":3,"event":{"type":"foo"},"value":"a","context":{"log":["foo.bar.*","exact","foo.*"]},"status":"active","done":false,"now":0},{"step":4,"event":{"type":"foo.bar.baz"},"value":"a","context":{"log":["foo.bar.*","exact","foo.*","foo.bar.*"]},"status":"active","done":false,"now":0},{"step":5,"event":{"type":"food"},"value":"a","context":{"log":["foo.bar.*","exact","foo.*","foo.bar.*","*"]},"status":"active","done":false,"now":0},{"step":6,"event":{"type":"foo.*"},"value":"a","context":{"log":["foo.bar.*","exact","foo.*","foo.bar.*","*","foo.*"]},"status":"active","done":false,"now":0},{"step":7,"event":{"type":"x.foo"},"value":"a","context":{"log":["foo.bar.*","exact","foo.*","foo.bar.*","*","foo.*","*"]},"status":"active","done":false,"now":0}]}`,
	},
	{
		name:  "multi-target",
		case_: `{"machine":{"id":"m","initial":"p","context":{"log":[]},"states":{"p":{"type":"parallel","states":{"r1":{"initial":"a","states":{"a":{"on":{"GO":{"target":["#m.p.r1.b","#m.p.r2.d"]}}},"b":{"entry":[{"type":"xorc.append","params":{"value":"b+"}}]}}},"r2":{"initial":"c","states":{"c":{"exit":[{"type":"xorc.append","params":{"value":"c-"}}]},"d":{"entry":[{"type":"xorc.append","params":{"value":"d+"}}]}}}}}}},"events":[{"type":"GO"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":{"p":{"r1":"a","r2":"c"}},"context":{"log":[]},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"GO"},"value":{"p":{"r1":"b","r2":"d"}},"context":{"log":["c-","b+","d+"]},"status":"active","done":false,"now":0}]}`,
	},
	{
		name:  "root-target",
		case_: `{"machine":{"id":"m","initial":"a","context":{"log":[]},"entry":[{"type":"xorc.append","params":{"value":"m+"}}],"exit":[{"type":"xorc.append","params":{"value":"m-"}}],"states":{"a":{"on":{"ROOT":"#m","RE":{"target":"#m","reenter":true},"B":"b"}},"b":{}}},"events":[{"type":"B"},{"type":"ROOT"},{"type":"B"},{"type":"RE"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":"a","context":{"log":["m+"]},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"B"},"value":"b","context":{"log":["m+"]},"status":"active","done":false,"now":0},{"step":2,"event":{"type":"ROOT"},"value":"b","context":{"log":["m+"]},"status":"active","done":false,"now":0},{"step":3,"event":{"type":"B"},"value":"b","context":{"log":["m+"]},"status":"active","done":false,"now":0},{"step":4,"event":{"type":"RE"},"value":"b","context":{"log":["m+"]},"status":"active","done":false,"now":0}]}`,
	},
	{
		name:  "nested-parallel-done",
		case_: `{"machine":{"id":"m","initial":"p","context":{"log":[]},"states":{"p":{"type":"parallel","onDone":{"target":"end","actions":["xorc.append"]},"states":{"q":{"type":"parallel","onDone":{"actions":["xorc.append"]},"states":{"x":{"initial":"a","states":{"a":{"on":{"E":"f"}},"f":{"type":"final"}}},"y":{"initial":"a","states":{"a":{"on":{"E":"f"}},"f":{"type":"final"}}}}},"z":{"type":"final"}}},"end":{"type":"final"}}},"events":[{"type":"E"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":{"p":{"q":{"x":"a","y":"a"},"z":{}}},"context":{"log":[]},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"E"},"value":"end","context":{"log":["xstate.done.state.m.p.q","xstate.done.state.m.p"]},"status":"done","done":true,"now":0}]}`,
	},
	{
		name:  "root-star-takes-internal",
		case_: `{"machine":{"id":"m","initial":"a","context":{"log":[]},"on":{"*":{"actions":["xorc.append"]}},"states":{"a":{"initial":"x","after":{"10":"b"},"states":{"x":{"on":{"F":"y"}},"y":{"type":"final"}},"onDone":{"actions":[{"type":"xorc.append","params":{"value":"done"}}]}},"b":{}}},"events":[{"type":"F"},{"type":"$wait","ms":10}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":{"a":"x"},"context":{"log":[]},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"F"},"value":{"a":"y"},"context":{"log":["done"]},"status":"active","done":false,"now":0},{"step":2,"event":{"type":"$wait","ms":10},"value":"b","context":{"log":["done"]},"status":"active","done":false,"now":10}]}`,
	},
	{
		name:  "atomic-star-beats-parent",
		case_: `{"machine":{"id":"m","initial":"a","context":{"log":[]},"states":{"a":{"initial":"x","after":{"10":"b"},"onDone":"b","states":{"x":{"on":{"*":{"actions":["xorc.append"]},"F":"y"}},"y":{"type":"final"}}},"b":{}}},"events":[{"type":"$wait","ms":10},{"type":"F"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":{"a":"x"},"context":{"log":[]},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"$wait","ms":10},"value":{"a":"x"},"context":{"log":["xstate.after.10.m.a"]},"status":"active","done":false,"now":10},{"step":2,"event":{"type":"F"},"value":"b","context":{"log":["xstate.after.10.m.a"]},"status":"active","done":false,"now":10}]}`,
	},
	{
		name:  "history-target-array",
		case_: `{"machine":{"id":"m","initial":"o","states":{"p":{"type":"parallel","states":{"r1":{"initial":"a","states":{"a":{},"b":{}}},"r2":{"initial":"c","states":{"c":{},"d":{}}},"h":{"type":"history","history":"deep","target":["r1.b","r2.d"]}}},"o":{"on":{"H":"#m.p.h"}}}},"events":[{"type":"H"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":"o","context":{},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"H"},"value":{"p":{"r1":"b","r2":"d"}},"context":{},"status":"active","done":false,"now":0}]}`,
	},
	{
		name:  "final-always-and-ondone-guard",
		case_: `{"machine":{"id":"m","initial":"p","context":{"count":0,"log":[]},"states":{"p":{"initial":"a","onDone":[{"guard":{"type":"xorc.gt","params":{"value":0}},"target":"yes"},{"target":"no"}],"states":{"a":{"on":{"E":"f","I":{"actions":["xorc.increment"]}}},"f":{"type":"final","entry":[{"type":"xorc.append","params":{"value":"f+"}}],"always":{"actions":[{"type":"xorc.append","params":{"value":"f-always"}}]}}}},"yes":{"type":"final"},"no":{"type":"final"}}},"events":[{"type":"I"},{"type":"E"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":{"p":"a"},"context":{"count":0,"log":[]},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"I"},"value":{"p":"a"},"context":{"count":1,"log":[]},"status":"active","done":false,"now":0},{"step":2,"event":{"type":"E"},"value":{"p":"a"},"context":{"count":1,"log":[]},"status":"error","done":false,"now":0,"error":"Infinite loop detected: the machine has processed more than 1000 microsteps without reaching a stable state. This usually happens when there's a cycle of transitions (e.g., eventless transitions or raised events causing state A -> B -> C -> A)."}]}`,
	},
	{
		name:  "raise-chain-with-done-dropped",
		case_: `{"machine":{"id":"m","initial":"a","context":{"log":[]},"states":{"a":{"on":{"GO":{"target":"f","actions":[{"type":"xorc.raise","params":{"event":"R"}}]}}},"f":{"type":"final","exit":["xorc.append"]}},"on":{"R":{"actions":["xorc.append"]}}},"events":[{"type":"GO"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":"a","context":{"log":[]},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"GO"},"value":"f","context":{"log":["GO"]},"status":"done","done":true,"now":0}]}`,
	},
	{
		name:  "deep-nesting",
		case_: `{"machine":{"id":"m","initial":"a","context":{"log":[]},"states":{"a":{"initial":"b","states":{"b":{"initial":"c","states":{"c":{"initial":"d","states":{"d":{"initial":"e","states":{"e":{"initial":"f","states":{"f":{"on":{"UP":{"target":"#m.a.b","reenter":true,"actions":["xorc.append"]},"ROOT":".."}},"g":{}}}}}}}}}}}}},"events":[{"type":"UP"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":{"a":{"b":{"c":{"d":{"e":"f"}}}}},"context":{"log":[]},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"UP"},"value":{"a":{"b":{"c":{"d":{"e":"f"}}}}},"context":{"log":["UP"]},"status":"active","done":false,"now":0}]}`,
	},
	{
		name:  "guard-in-plain-path",
		case_: `{"machine":{"id":"m","type":"parallel","context":{"log":[]},"states":{"r1":{"initial":"a","states":{"a":{"on":{"E":"b"}},"b":{}}},"r2":{"initial":"c","states":{"c":{"always":{"target":"d","guard":{"type":"xorc.in","params":{"state":"r1.b"}},"actions":["xorc.append"]}},"d":{}}}}},"events":[{"type":"E"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":{"r1":"a","r2":"c"},"context":{"log":[]},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"E"},"value":{"r1":"b","r2":"d"},"context":{"log":["E"]},"status":"active","done":false,"now":0}]}`,
	},
	{
		name:  "escaped-dot-ids",
		case_: `{"machine":{"id":"m","initial":"a","states":{"a":{"id":"x.y","on":{"E":"#x\\.y.z"},"initial":"w","states":{"w":{},"z":{}}}}},"events":[{"type":"E"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":{"a":"w"},"context":{},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"E"},"value":{"a":"z"},"context":{},"status":"active","done":false,"now":0}]}`,
	},
	{
		name:  "xstate-init-external",
		case_: `{"machine":{"id":"m","initial":"a","context":{"count":0},"states":{"a":{"always":{"guard":{"type":"xorc.gt","params":{"value":0}},"target":"b"},"on":{"I":{"actions":["xorc.increment"]}}},"b":{}}},"events":[{"type":"xstate.init"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":"a","context":{"count":0},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"xstate.init"},"value":"a","context":{"count":0},"status":"active","done":false,"now":0}]}`,
	},
	{
		name:  "assign-in-done-exit",
		case_: `{"machine":{"id":"m","initial":"a","context":{"count":0},"exit":["xorc.increment"],"states":{"a":{"on":{"E":"f"}},"f":{"type":"final","exit":["xorc.increment"]}}},"events":[{"type":"E"},{"type":"E"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":"a","context":{"count":0},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"E"},"value":"f","context":{"count":2},"status":"done","done":true,"now":0},{"step":2,"event":{"type":"E"},"value":"f","context":{"count":2},"status":"done","done":true,"now":0}]}`,
	},
	{
		name:  "self-reenter-no-change-log-always",
		case_: `{"machine":{"id":"m","initial":"a","context":{"log":[]},"states":{"a":{"on":{"E":{"target":"a","reenter":true}},"always":{"actions":[{"type":"xorc.log"}]}}}},"events":[{"type":"E"}]}`,
		want:  `{"steps":[{"step":0,"event":null,"value":"a","context":{"log":[]},"status":"active","done":false,"now":0},{"step":1,"event":{"type":"E"},"value":"a","context":{"log":[]},"status":"active","done":false,"now":0}]}`,
	},
}
