console.log("hello from v1");
