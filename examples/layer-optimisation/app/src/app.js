console.log("the app");
